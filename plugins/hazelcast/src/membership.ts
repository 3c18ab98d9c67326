// Which nodes are in the cluster. Nodes are Hazelcast clients, not members, so they cannot
// see each other through Hazelcast's own membership: each node keeps an entry in the members
// map with a time to live and refreshes it (its heartbeat). An entry that expires is a node
// that died or lost the cluster; every node hears of it through the map's events.
import type { IMap } from 'hazelcast-client';
import type { ClusterMember, Logger } from 'xmppd';
import { decodeMember, encodeMember, type MemberRecord } from './maps.ts';

export interface MembershipTiming {
  /** How often this node refreshes its entry, in milliseconds. */
  heartbeatMs: number;
  /** How long its entry lives without a refresh, in milliseconds: the failure detection time. */
  timeoutMs: number;
}

export interface MembershipListener {
  joined(nodeId: string, record: MemberRecord): void;
  left(nodeId: string): void;
  /** This node's own entry disappeared (a pause longer than the timeout): it was taken for dead. */
  lostSelf(): void;
}

export class Membership {
  private readonly members = new Map<string, MemberRecord>();
  private listenerId: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The check of nodes missing after a reconnection, pending. */
  private recheck: NodeJS.Timeout | null = null;

  constructor(
    private readonly map: IMap<string, string>,
    private readonly nodeId: string,
    private readonly self: MemberRecord,
    private readonly timing: MembershipTiming,
    private readonly listener: MembershipListener,
    private readonly log: Logger,
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
      removed: (e) => this.gone(e.key),
      expired: (e) => this.gone(e.key),
      evicted: (e) => this.gone(e.key),
    }, undefined, true);
    await this.beat(true);
    for (const [nodeId, value] of await this.map.entrySet()) this.put(nodeId, value);
    this.timer = setInterval(() => void this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  /**
   * After the Hazelcast client reconnected: this node's entry is written again at once (the
   * members may have restarted empty), nodes that joined meanwhile are taken in, and a known
   * node missing from the map is given one node timeout to write its entry again, as any node
   * that lived through the outage does within a heartbeat. One that does not died meanwhile:
   * its expiry was missed, or went with the members, so it is taken for left here.
   */
  async reconcile(): Promise<void> {
    await this.beat(true);
    const present = new Map(await this.map.entrySet());
    for (const [nodeId, value] of present) this.put(nodeId, value);
    const missing = [...this.members.keys()].filter((nodeId) => !present.has(nodeId));
    if (!missing.length) return;
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = setTimeout(() => {
      this.recheck = null;
      void Promise.all(missing.map(async (nodeId) => {
        if (!(await this.map.containsKey(nodeId))) this.gone(nodeId);
      })).catch((err: unknown) => this.log.warn('cannot check the nodes missing after a reconnection', { error: err instanceof Error ? err.message : String(err) }));
    }, this.timing.timeoutMs);
    this.recheck.unref();
  }

  /** Leaves cleanly: the others hear of it at once instead of after the timeout. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = null;
    if (this.listenerId) await this.map.removeEntryListener(this.listenerId).catch(() => false);
    this.listenerId = null;
    await this.map.delete(this.nodeId).catch(() => undefined);
    this.members.clear();
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

  private gone(nodeId: string): void {
    if (nodeId === this.nodeId) {
      if (!this.timer) return; // stopped: its own deletion
      this.listener.lostSelf();
      void this.beat();
      return;
    }
    if (this.members.delete(nodeId)) this.listener.left(nodeId);
  }

  private put(nodeId: string, value: string): void {
    const record = decodeMember(value);
    if (!record || nodeId === this.nodeId) return;
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
