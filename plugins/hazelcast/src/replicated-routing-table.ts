// The cluster's routing table as each node sees it: a full local replica of the routes map,
// kept current by Hazelcast entry events, so the per-stanza lookups the router makes stay
// synchronous and cost no network round trip (see RoutingTable in the kernel).
//
// Each node is the only writer of its own sessions' routes. For those, the replica is the
// truth and events about them are ignored (they may arrive late, after a newer local change);
// for the routes of other nodes, events are applied in the order Hazelcast delivers them,
// which is the order of the writes per key.
import type { IMap } from 'hazelcast-client';
import { LocalRoutingTable, type Logger, type RouteDifferences, type RouteEntry, type RoutingTable } from 'xmppd';
import { decodeRoute, encodeRoute } from './maps.ts';

export interface RouteChange {
  /** The route now in the table, or null when removed. */
  entry: RouteEntry | null;
  jid: string;
}

export class ReplicatedRoutingTable implements RoutingTable {
  private readonly replica = new LocalRoutingTable();
  private listenerId: string | null = null;

  constructor(
    private readonly map: IMap<string, string>,
    private readonly nodeId: string,
    private readonly log: Logger,
    /** Told when another node takes a full JID (a session here must then give way). */
    private readonly onRemoteRoute: (entry: RouteEntry) => void = () => {},
    /** Told when another node's route left the replica on that node's word (its event). */
    private readonly onRemoteRemoved: (entry: RouteEntry) => void = () => {},
  ) {}

  /** Keys an event touched while a snapshot of the map loads (null when none is loading). */
  private touched: Set<string> | null = null;

  /** Subscribes to changes, then loads what the map holds. */
  async start(): Promise<void> {
    const removed = (key: string): void => {
      this.touched?.add(key);
      this.applyRemove(key);
    };
    const put = (key: string, value: string): void => {
      this.touched?.add(key);
      this.applyPut(key, value);
    };
    this.touched = new Set();
    this.listenerId = await this.map.addEntryListener({
      added: (e) => put(e.key, e.value),
      updated: (e) => put(e.key, e.value),
      removed: (e) => removed(e.key),
      expired: (e) => removed(e.key),
      evicted: (e) => removed(e.key),
    }, undefined, true);
    try {
      // An event seen while the snapshot loads is newer than the snapshot: it wins.
      for (const [jid, value] of await this.map.entrySet()) {
        if (!this.touched.has(jid) && !this.replica.getRoute(jid)) this.applyPut(jid, value);
      }
    } finally {
      this.touched = null;
    }
  }

  /**
   * After the Hazelcast client reconnected: the events missed meanwhile are made up for, and
   * what this node wrote or deleted during the outage (which may have failed, or been lost
   * with members that restarted empty) is done again. This node's live routes are written
   * first; then, against a fresh snapshot, the routes of other nodes that are gone from the map
   * (ghosts) leave the replica, the ones it missed enter it, and this node's entries for
   * sessions that ended meanwhile leave the map.
   */
  async reconcile(): Promise<{ published: number; ghosts: number; missed: number; stale: number }> {
    const own = this.ownRoutes();
    await Promise.all(own.map((route) => this.map.set(route.jid, encodeRoute(route))));
    const counts = { published: own.length, ghosts: 0, missed: 0, stale: 0 };
    this.touched = new Set();
    try {
      const snapshot = new Map(await this.map.entrySet());
      const touched = this.touched;
      for (const [jid, value] of snapshot) {
        if (touched.has(jid)) continue;
        const entry = decodeRoute(jid, value);
        if (!entry) continue;
        const current = this.replica.getRoute(jid);
        if (entry.nodeId === this.nodeId) {
          // Ours in the map, not here: the session ended while its deletion could not be made.
          if (current?.nodeId !== this.nodeId && (await this.map.remove(jid, value))) counts.stale++;
        } else if (!current || current.nodeId !== entry.nodeId) {
          counts.missed++;
          this.applyPut(jid, value);
        }
      }
      for (const route of this.all()) {
        if (route.nodeId !== this.nodeId && !snapshot.has(route.jid) && !touched.has(route.jid)) {
          this.replica.removeRoute(route.jid);
          counts.ghosts++;
        }
      }
    } finally {
      this.touched = null;
    }
    return counts;
  }

  /**
   * How the replica and the routes map differ now, changing nothing (reconcile repairs it).
   * A write still on its way shows as a difference for a moment: one seen twice is real.
   */
  async differences(): Promise<RouteDifferences> {
    const snapshot = new Map(await this.map.entrySet());
    const found: RouteDifferences = { unpublished: [], stale: [], missed: [], ghosts: [] };
    for (const route of this.all()) {
      const value = snapshot.get(route.jid);
      const entry = value === undefined ? null : decodeRoute(route.jid, value);
      if (route.nodeId === this.nodeId) {
        if (!entry || entry.nodeId !== this.nodeId || entry.available !== route.available) found.unpublished.push(route.jid);
      } else if (!entry) {
        found.ghosts.push(route.jid);
      }
    }
    for (const [jid, value] of snapshot) {
      const entry = decodeRoute(jid, value);
      if (!entry) continue;
      const current = this.replica.getRoute(jid);
      if (entry.nodeId === this.nodeId) {
        if (current?.nodeId !== this.nodeId) found.stale.push(jid);
      } else if (!current || current.nodeId !== entry.nodeId) {
        found.missed.push(jid);
      }
    }
    return found;
  }

  async stop(): Promise<void> {
    if (this.listenerId) await this.map.removeEntryListener(this.listenerId).catch(() => false);
    this.listenerId = null;
  }

  addRoute(entry: RouteEntry): Promise<void> {
    this.replica.addRoute({ ...entry });
    return this.write('add', entry.jid, () => this.map.set(entry.jid, encodeRoute(entry)));
  }

  updateRoute(entry: RouteEntry): Promise<void> {
    const current = this.replica.getRoute(entry.jid);
    if (!current || current.nodeId !== this.nodeId) return Promise.resolve();
    this.replica.updateRoute(entry);
    return this.write('update', entry.jid, () => this.map.set(entry.jid, encodeRoute(entry)));
  }

  removeRoute(fullJid: string): Promise<void> {
    const current = this.replica.getRoute(fullJid);
    // A route another node has taken over is that node's to remove.
    if (!current || current.nodeId !== this.nodeId) return Promise.resolve();
    this.replica.removeRoute(fullJid);
    return this.write('remove', fullJid, () => this.map.delete(fullJid));
  }

  getRoute(fullJid: string): RouteEntry | undefined {
    return this.replica.getRoute(fullJid);
  }

  getRoutes(bareJid: string): readonly RouteEntry[] {
    return this.replica.getRoutes(bareJid);
  }

  size(): number {
    return this.replica.size();
  }

  /** This node's own routes (to write them again after the cluster lost them). */
  ownRoutes(): RouteEntry[] {
    return this.all().filter((e) => e.nodeId === this.nodeId);
  }

  /** Forgets the routes of a node that left; returns them. */
  dropNode(nodeId: string): RouteEntry[] {
    const gone = this.all().filter((e) => e.nodeId === nodeId);
    for (const e of gone) this.replica.removeRoute(e.jid);
    return gone;
  }

  /** Removes a departed node's routes from the map, unless a new session took the JID since. */
  async purgeNode(routes: readonly RouteEntry[]): Promise<void> {
    for (const route of routes) {
      const value = await this.map.get(route.jid);
      if (value !== null && decodeRoute(route.jid, value)?.nodeId === route.nodeId) await this.map.remove(route.jid, value);
    }
  }

  all(): RouteEntry[] {
    return this.replica.all();
  }

  private applyPut(jid: string, value: string): void {
    const entry = decodeRoute(jid, value);
    if (!entry) {
      this.log.warn('ignoring a route that is not one', { jid });
      return;
    }
    if (entry.nodeId === this.nodeId) return;
    const mine = this.replica.getRoute(jid)?.nodeId === this.nodeId;
    this.replica.addRoute(entry);
    if (mine) this.onRemoteRoute(entry);
  }

  private applyRemove(jid: string): void {
    const current = this.replica.getRoute(jid);
    if (!current || current.nodeId === this.nodeId) return;
    this.replica.removeRoute(jid);
    this.onRemoteRemoved(current);
  }

  private async write(what: string, jid: string, op: () => Promise<unknown>): Promise<void> {
    try {
      await op();
    } catch (err) {
      // The replica is right for this node; the cluster learns again when it comes back
      // (the controller writes every own route again after a reconnection).
      this.log.warn(`cluster route ${what} failed`, { jid, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
