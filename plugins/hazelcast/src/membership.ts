// Which nodes are in the cluster. Nodes are Hazelcast clients, not members, so they cannot
// see each other through Hazelcast's own membership: each node keeps an entry in the members
// map with a time to live and refreshes it (its heartbeat). An entry that expires is a node
// that died or lost the cluster; every node hears of it through the map's events.
//
// Waiting for the entry to expire takes the time to live and then Hazelcast's own expiry
// sweep (12 s with the defaults). A node killed outright is found sooner: every node hears the
// others' heartbeats (each renewal is an update event), and a peer silent for two heartbeats
// whose link port refuses connections is dead for certain (link-probe.ts), so the first node
// to see that removes its entry at once. A peer that is silent but whose port is open (frozen,
// slow, overloaded) is left to the time to live: a slow node is never declared dead early.
import type { IMap } from 'hazelcast-client';
import type { ClusterMember, Logger } from 'xmppd';
import { probeLink, type ProbeResult } from './link-probe.ts';
import { decodeMember, encodeMember, type MemberRecord } from './maps.ts';

export interface MembershipTiming {
  /** How often this node refreshes its entry, in milliseconds. */
  heartbeatMs: number;
  /** How long its entry lives without a refresh, in milliseconds: the failure detection time. */
  timeoutMs: number;
}

/**
 * How a node went: `left` on purpose (its sessions stay connected); `dead` for certain (its
 * port refused while its heartbeat was silent); `expired`: its entry ran out, which a dead
 * node and a frozen one that will come back both do.
 */
export type Departure = 'left' | 'dead' | 'expired';

export interface MembershipListener {
  joined(nodeId: string, record: MemberRecord): void;
  left(nodeId: string, how: Departure): void;
  /** This node's own entry disappeared (a pause longer than the timeout): it was taken for dead. */
  lostSelf(): void;
}

export class Membership {
  private readonly members = new Map<string, MemberRecord>();
  private listenerId: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The check of nodes missing after a reconnection, pending. */
  private recheck: NodeJS.Timeout | null = null;
  /** When each peer's entry was last written, as heard here, and what it held. */
  private readonly heard = new Map<string, { at: number; value: string }>();
  private silenceTimer: NodeJS.Timeout | null = null;
  private readonly probing = new Set<string>();

  constructor(
    private readonly map: IMap<string, string>,
    private readonly nodeId: string,
    private readonly self: MemberRecord,
    private readonly timing: MembershipTiming,
    private readonly listener: MembershipListener,
    private readonly log: Logger,
    /** Whether this node hears Hazelcast now: cut off, every peer is silent through no fault of its own. */
    private readonly connected: () => boolean = () => true,
    private readonly probe: (address: string, timeoutMs: number) => Promise<ProbeResult> = probeLink,
  ) {}

  async start(): Promise<void> {
    // Two nodes under one id would take each other's routes: refuse to join as a second one.
    const existing = decodeMember((await this.map.get(this.nodeId)) ?? '');
    if (existing && existing.address !== this.self.address) {
      throw new Error(`node id ${this.nodeId} is in use by the node at ${existing.address}: give each node its own node_id `
        + `(after a crash, the old entry expires within ${this.timing.timeoutMs / 1000} s)`);
    }
    this.listenerId = await this.map.addEntryListener({
      added: (e) => this.put(e.key, e.value),
      updated: (e) => this.put(e.key, e.value),
      // Removed: it left (its last record says so) or a node found it dead.
      removed: (e) => this.gone(e.key, this.members.get(e.key)?.leaving ? 'left' : 'dead'),
      expired: (e) => this.expired(e.key),
      evicted: (e) => this.expired(e.key),
    }, undefined, true);
    await this.beat(true);
    for (const [nodeId, value] of await this.map.entrySet()) this.put(nodeId, value);
    this.timer = setInterval(() => void this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
    this.silenceTimer = setInterval(() => this.checkSilent(), Math.max(250, this.timing.heartbeatMs / 2));
    this.silenceTimer.unref();
  }

  /**
   * Tells the others this node is about to leave on purpose, before its routes go: once its
   * entry is removed they drop its routes without taking its sessions for lost. The same key
   * as the removal, so every node sees the mark before the removal.
   */
  async announceLeaving(): Promise<void> {
    await this.map.set(this.nodeId, encodeMember({ ...this.self, leaving: true }), this.timing.timeoutMs).catch(() => undefined);
  }

  /**
   * Peers silent for two heartbeats and a half are asked whether their process is there
   * (their link port); one whose port refuses is dead, and its entry is removed, so that
   * every node hears of it now rather than after the time to live.
   */
  private checkSilent(): void {
    if (!this.connected()) return;
    const silentSince = Date.now() - this.timing.heartbeatMs * 2.5;
    for (const [nodeId, record] of this.members) {
      const heard = this.heard.get(nodeId);
      if (!heard || heard.at > silentSince || this.probing.has(nodeId)) continue;
      this.probing.add(nodeId);
      void this.probe(record.address, this.timing.heartbeatMs).then(async (result) => {
        if (result !== 'refused' || this.heard.get(nodeId) !== heard) return;
        this.log.warn('node silent and its link port closed: taken for dead', { peer: nodeId, silentMs: Date.now() - heard.at });
        this.gone(nodeId, 'dead');
        // Only the value last heard, so a node that just came back keeps its new entry.
        await this.map.remove(nodeId, heard.value).catch(() => false);
      }).finally(() => this.probing.delete(nodeId));
    }
  }

  /**
   * After the Hazelcast client reconnected: this node's entry is written again at once (the
   * members may have restarted empty), nodes that joined meanwhile are taken in, and a known
   * node missing from the map is given one node timeout to write its entry again, as any node
   * that lived through the outage does within a heartbeat. One that does not died meanwhile:
   * its expiry was missed, or went with the members, so it is taken for left here.
   */
  async reconcile(): Promise<void> {
    // The silence of the outage was this node's: each peer gets a fresh two heartbeats and a half.
    const now = Date.now();
    for (const heard of this.heard.values()) heard.at = now;
    await this.beat(true);
    const present = new Map(await this.map.entrySet());
    for (const [nodeId, value] of present) this.put(nodeId, value);
    const missing = [...this.members.keys()].filter((nodeId) => !present.has(nodeId));
    if (!missing.length) return;
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = setTimeout(() => {
      this.recheck = null;
      void Promise.all(missing.map(async (nodeId) => {
        if (!(await this.map.containsKey(nodeId))) this.gone(nodeId, 'expired');
      })).catch((err: unknown) => this.log.warn('cannot check the nodes missing after a reconnection', { error: err instanceof Error ? err.message : String(err) }));
    }, this.timing.timeoutMs);
    this.recheck.unref();
  }

  /** Leaves cleanly: the others hear of it at once instead of after the timeout. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    this.silenceTimer = null;
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = null;
    if (this.listenerId) await this.map.removeEntryListener(this.listenerId).catch(() => false);
    this.listenerId = null;
    await this.map.delete(this.nodeId).catch(() => undefined);
    this.members.clear();
    this.heard.clear();
  }

  /** The other nodes, by id. */
  peers(): ReadonlyMap<string, MemberRecord> {
    return this.members;
  }

  /** The oldest node (ties broken by id): the one that cleans up after a node that left. */
  seniorNodeId(): string {
    let senior = this.nodeId;
    let since = this.self.joinedAt;
    for (const [id, r] of this.members) {
      if (r.joinedAt < since || (r.joinedAt === since && id < senior)) [senior, since] = [id, r.joinedAt];
    }
    return senior;
  }

  list(): ClusterMember[] {
    const all: [string, MemberRecord][] = [[this.nodeId, this.self], ...this.members];
    return all
      .sort((a, b) => a[1].joinedAt - b[1].joinedAt || a[0].localeCompare(b[0]))
      .map(([nodeId, r]) => ({ nodeId, address: r.address, joinedAt: new Date(r.joinedAt), version: r.version, pluginVersion: r.plugin }));
  }

  /** An entry ran out: a node whose port refuses is dead for certain, another may be frozen. */
  private expired(nodeId: string): void {
    const record = this.members.get(nodeId);
    const heard = this.heard.get(nodeId);
    if (nodeId === this.nodeId || !record) return this.gone(nodeId, 'expired');
    void this.probe(record.address, this.timing.heartbeatMs).then((result) => {
      // Written again while the probe ran: it is back, and stays.
      if (this.heard.get(nodeId) === heard) this.gone(nodeId, result === 'refused' ? 'dead' : 'expired');
    });
  }

  private gone(nodeId: string, how: Departure): void {
    if (nodeId === this.nodeId) {
      if (!this.timer) return; // stopped: its own deletion
      void this.beat();
      this.listener.lostSelf();
      return;
    }
    this.heard.delete(nodeId);
    if (this.members.delete(nodeId)) this.listener.left(nodeId, how);
  }

  private put(nodeId: string, value: string): void {
    const record = decodeMember(value);
    if (!record || nodeId === this.nodeId) return;
    this.heard.set(nodeId, { at: Date.now(), value });
    const known = this.members.has(nodeId);
    this.members.set(nodeId, record);
    if (!known) this.listener.joined(nodeId, record);
  }

  /** `strict`: a failure is thrown to the caller rather than logged. */
  private async beat(strict = false): Promise<void> {
    try {
      await this.map.set(this.nodeId, encodeMember(this.self), this.timing.timeoutMs);
    } catch (err) {
      if (strict) throw err;
      this.log.warn('cluster heartbeat failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
