// Local sessions of this node, by full and bare JID, and their routes in the RoutingTable.
import type { EventBus } from '../events/event-bus.ts';
import type { JID } from '../jid/jid.ts';
import type { Logger } from '../log.ts';
import type { RouteEntry, RoutingTable } from '../routing/routing-table.ts';
import { StreamError } from '../xml/errors.ts';
import type { ClientSession } from './client-session.ts';

export interface SessionEvent {
  session: ClientSession;
}

export interface SessionClosedEvent extends SessionEvent {
  /** Why the session ended, for logs: 'closed by client', 'conflict', a stream error ... */
  reason: string;
}

/** Fired when the routing table refused a write (payload: RoutingTableErrorEvent). */
export const ROUTING_TABLE_ERROR = 'routing/table-error';

export interface RoutingTableErrorEvent {
  operation: 'add' | 'update' | 'remove';
  jid: string;
  error: unknown;
}

export class SessionManager {
  private readonly byFull = new Map<string, ClientSession>();
  private readonly byBare = new Map<string, Set<ClientSession>>();

  constructor(
    private readonly nodeId: string,
    private routes: RoutingTable,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {}

  /**
   * Swaps the table (cluster/cluster-slot.ts does, when clustering comes or goes); every
   * local session is announced in the new one with its current availability and priority.
   * The old table is dropped as it is: cleaning up what it holds is its owner's business.
   * From the first line on, binds, unbinds and presence changes go to the new table; the
   * live iteration skips sessions unbound meanwhile (no stale route is written back) and
   * reads each route when it announces it (no stale priority).
   */
  async setRoutingTable(table: RoutingTable): Promise<void> {
    this.routes = table;
    for (const s of this.byFull.values()) {
      // Swapped again while this one was announcing: the newer swap announces everyone.
      if (this.routes !== table) return;
      await table.addRoute(this.routeOf(s));
    }
  }

  get routingTable(): RoutingTable {
    return this.routes;
  }

  /**
   * Whether binding `jid` keeps its account within `limit` sessions (0: no limit), counted
   * in the routing table: this node's sessions, and every node's when clustered. A bind that
   * takes over a full JID already bound replaces that session (see bind, and the clustering
   * plugin across nodes) rather than adding one, so it is always admitted.
   */
  admits(jid: JID, limit: number): boolean {
    const full = jid.toString();
    if (limit <= 0 || this.byFull.has(full) || this.routes.getRoute(full)) return true;
    return this.routes.getRoutes(jid.bareString()).length < limit;
  }

  /**
   * Binds a new session. Conflict policy (RFC 6120 7.7.2.2): the new session wins and the
   * old one is closed with a <conflict/> stream error.
   */
  bind(session: ClientSession): void {
    const full = session.jid.toString();
    const old = this.byFull.get(full);
    if (old) this.end(old, new StreamError('conflict', 'Replaced by new connection'), 'replaced by a new session (conflict)');
    this.byFull.set(full, session);
    const bare = session.jid.bareString();
    let set = this.byBare.get(bare);
    if (!set) this.byBare.set(bare, (set = new Set()));
    set.add(session);
    this.write('add', full, () => this.routes.addRoute(this.routeOf(session)));
    this.log.debug('session bound', { jid: full, transport: session.kind });
    this.events.fire<SessionEvent>('session/bound', { session });
  }

  /**
   * Ends a session on the server's initiative (replaced, kicked, account removed): it is
   * unbound at once, so what arrives for its JID from now on is routed as for a session that
   * is gone rather than written into a stream that is ending, then its stream is closed.
   */
  end(session: ClientSession, error: StreamError, reason: string): void {
    this.unbind(session, reason);
    session.close(error);
  }

  /**
   * Removes a session; idempotent. Fires session/closed so modules can clean up. Resolves
   * when the routing table has written the removal (a session moving to another node waits
   * for it, so that its new route cannot be overwritten by the old one's removal).
   */
  unbind(session: ClientSession, reason: string): Promise<void> {
    if (session.closed) return Promise.resolve();
    session.closed = true;
    const full = session.jid.toString();
    let removed = Promise.resolve();
    if (this.byFull.get(full) === session) {
      this.byFull.delete(full);
      removed = this.write('remove', full, () => this.routes.removeRoute(full));
    }
    const bare = session.jid.bareString();
    const set = this.byBare.get(bare);
    if (set) {
      set.delete(session);
      if (!set.size) this.byBare.delete(bare);
    }
    // With 'client logged in', the account's whole visit, for operators and fail2ban alike.
    this.log.info('client session ended', { jid: full, address: session.remoteAddress, transport: session.kind, reason });
    this.events.fire<SessionClosedEvent>('session/closed', { session, reason });
    return removed;
  }

  /** Call after a session's presence changed (availability, priority, show or status). */
  presenceChanged(session: ClientSession): void {
    const full = session.jid.toString();
    if (this.byFull.get(full) === session) this.write('update', full, () => this.routes.updateRoute(this.routeOf(session)));
  }

  get(fullJid: string): ClientSession | undefined {
    return this.byFull.get(fullJid);
  }

  /** Local sessions of one account. */
  ofUser(bareJid: string): Iterable<ClientSession> {
    return this.byBare.get(bareJid) ?? [];
  }

  all(): IterableIterator<ClientSession> {
    return this.byFull.values();
  }

  get size(): number {
    return this.byFull.size;
  }

  /**
   * A routing table write, which a clustered table may refuse (its cluster unreachable). The
   * session stays served from this node either way; the failure is logged and announced
   * (the clustering plugin reconciles its table), never thrown into the caller's path.
   */
  private write(operation: RoutingTableErrorEvent['operation'], jid: string, op: () => void | Promise<void>): Promise<void> {
    const failed = (error: unknown): void => {
      this.log.error('routing table refused a write', { operation, jid, error: error instanceof Error ? error.message : String(error) });
      this.events.fire<RoutingTableErrorEvent>(ROUTING_TABLE_ERROR, { operation, jid, error });
    };
    try {
      const out = op();
      if (out instanceof Promise) return out.catch(failed);
    } catch (err) {
      failed(err);
    }
    return Promise.resolve();
  }

  private routeOf(s: ClientSession): RouteEntry {
    const route: RouteEntry = {
      jid: s.jid.toString(),
      nodeId: this.nodeId,
      available: s.available,
      priority: s.priority,
      connection: { address: s.remoteAddress, transport: s.kind, secure: s.secure, since: s.startedAt.getTime() },
    };
    if (s.available && s.presence) route.presence = s.presence;
    if (s.routeTags.size) route.tags = [...s.routeTags];
    return route;
  }
}
