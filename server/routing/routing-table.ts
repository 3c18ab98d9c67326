// Where does a full JID live? The router asks a RoutingTable; standalone it is the local
// table below, the clustering plugin installs one backed by the cluster.
//
// Lookups are synchronous on purpose: they sit on the per-stanza path, and a clustered
// table is expected to answer from a local replica kept current by cluster events (as a
// near cache does) rather than by a network round trip per stanza. Writes may be async.
import type { Element } from '../xml/element.ts';

export interface RouteEntry {
  /** Full JID of the session, canonical string form. */
  jid: string;
  /** Node that holds the session. */
  nodeId: string;
  /** True once the session sent initial presence and until it goes unavailable. */
  available: boolean;
  /** Priority of the last available presence (RFC 6121 4.7.2.3), 0 until then. */
  priority: number;
  /**
   * The presence the session last broadcast, while it is available: any node can then answer
   * a probe or show a new resource its siblings without asking the node holding the session.
   */
  presence?: Element;
  /**
   * Flags that modules publish for the session so that every node sees them (a module's
   * per-session choice that another node must honour when it sends to the session, such as
   * "wants message carbons"); absent when there are none. The kernel only carries them.
   */
  tags?: readonly string[];
  /** How the client is connected, for administrators (the node holding it fills it in). */
  connection?: RouteConnection;
}

export interface RouteConnection {
  /** The client's address (as the listener saw it, or as a trusted proxy said). */
  address: string;
  transport: 'tcp' | 'websocket' | 'bosh';
  /** TLS between the client (or its trusted proxy) and this server. */
  secure: boolean;
  /** When the resource was bound, in milliseconds since the epoch. */
  since: number;
}

export interface RoutingTable {
  /** Adds or replaces the route of a full JID. */
  addRoute(entry: RouteEntry): void | Promise<void>;
  /** Updates availability and priority of an existing route. */
  updateRoute(entry: RouteEntry): void | Promise<void>;
  removeRoute(fullJid: string): void | Promise<void>;
  getRoute(fullJid: string): RouteEntry | undefined;
  /** All routes of one account (every resource on every node). */
  getRoutes(bareJid: string): readonly RouteEntry[];
  /** Number of routes known (metrics, status). */
  size(): number;
  /** Every route known (the admin's list of sessions online). */
  all(): readonly RouteEntry[];
}

const NO_ROUTES: readonly RouteEntry[] = Object.freeze([]);

function bareOf(fullJid: string): string {
  const slash = fullJid.indexOf('/');
  return slash === -1 ? fullJid : fullJid.slice(0, slash);
}

/** The standalone table: two maps, no I/O. */
export class LocalRoutingTable implements RoutingTable {
  private readonly byFull = new Map<string, RouteEntry>();
  private readonly byBare = new Map<string, RouteEntry[]>();

  addRoute(entry: RouteEntry): void {
    this.removeRoute(entry.jid);
    this.byFull.set(entry.jid, entry);
    const bare = bareOf(entry.jid);
    const list = this.byBare.get(bare);
    if (list) list.push(entry);
    else this.byBare.set(bare, [entry]);
  }

  updateRoute(entry: RouteEntry): void {
    const current = this.byFull.get(entry.jid);
    if (!current) return;
    current.available = entry.available;
    current.priority = entry.priority;
    current.nodeId = entry.nodeId;
    current.presence = entry.presence;
    current.tags = entry.tags;
  }

  removeRoute(fullJid: string): void {
    const current = this.byFull.get(fullJid);
    if (!current) return;
    this.byFull.delete(fullJid);
    const bare = bareOf(fullJid);
    const list = this.byBare.get(bare);
    if (!list) return;
    const rest = list.filter((e) => e !== current);
    if (rest.length) this.byBare.set(bare, rest);
    else this.byBare.delete(bare);
  }

  getRoute(fullJid: string): RouteEntry | undefined {
    return this.byFull.get(fullJid);
  }

  getRoutes(bareJid: string): readonly RouteEntry[] {
    return this.byBare.get(bareJid) ?? NO_ROUTES;
  }

  size(): number {
    return this.byFull.size;
  }

  all(): RouteEntry[] {
    return [...this.byFull.values()];
  }
}
