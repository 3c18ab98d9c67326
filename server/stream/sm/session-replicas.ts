// Replicas of resumable sessions on another node, so that a session outlives the node that
// held it (XEP-0198 resumption after a node died). In a cluster, the holder of each
// resumable session keeps one other node (its backup, chosen per session by rendezvous
// hashing over the live nodes) told of what a resumption needs: the session's JID and
// presence, its counts, and every stanza sent and not yet acknowledged. The holder sends
// what changed once per event-loop turn, one `remote/sm-replica` event per backup node
// however many sessions and stanzas it carries, so a busy node adds one link write per turn
// and backup, not one per stanza.
//
// If the holder dies, the backup still has the session: a client resuming on any node is
// handed the session from the replica (session-handover.ts asks every node once the holder
// does not answer), with what the dead node sent and the client did not acknowledge sent
// again. A replica whose holder is gone and whose client does not come back within the
// resumption time is settled as a session ending for good: its unacknowledged messages go
// to offline storage.
//
// What can still be lost: what the holder sent, or counted as received, in its last turn
// before it died (not yet replicated); presence set in that turn. A client whose count of
// handled stanzas the replica is behind on re-sends those stanzas, as XEP-0198 has it for
// any resumption.
import type { ClusterManager } from '../../cluster/cluster-manager.ts';
import { ownerOf } from '../../cluster/rendezvous.ts';
import type { EventBus } from '../../events/event-bus.ts';
import { JID } from '../../jid/jid.ts';
import type { Logger } from '../../log.ts';
import type { ClientSession } from '../../session/client-session.ts';
import { serialize, type Element } from '../../xml/element.ts';
import type { StreamManagement } from './stream-management.ts';
import { UnackedQueue, type SentStanza } from './unacked-queue.ts';

export const SM_REPLICA_EVENT = 'remote/sm-replica';
/** How often sessions are checked for a backup that changed (a node joined or left) or state not yet sent. */
const SWEEP_MS = 2_000;

/** What a session's backup keeps of it, apart from its queue. */
export interface ReplicaState {
  id: string;
  username: string;
  jid: string;
  presence: string | null;
  priority: number;
  interested: boolean;
  directed: string[];
  resumeSeconds: number;
}

interface Snapshot extends ReplicaState {
  sent: number;
  inbound: number;
  queued: string[];
}

interface Delta {
  id: string;
  inbound: number;
  /** The holder's acknowledged count. */
  acked: number;
  appended: string[];
  state?: ReplicaState;
}

interface ReplicaMessage {
  holder: string;
  snapshots: Snapshot[];
  deltas: Delta[];
  ended: string[];
}

/** A session as its backup keeps it. */
export interface Replica {
  holder: string;
  state: ReplicaState;
  inbound: number;
  queue: UnackedQueue;
  /** When the holder was first seen gone; null while it is a member. */
  orphanedAt: number | null;
}

export interface SessionReplicasDeps {
  nodeId: string;
  cluster(): ClusterManager;
  events: Pick<EventBus, 'on'>;
  /** Whether replicas are kept (xmpp.sm.cluster-replicas). */
  enabled(): boolean;
  /** Settles the unacknowledged stanzas of a session that ended for good (ResumableSessions.settle). */
  settle(jid: JID, stanzas: SentStanza[]): void;
  log: Logger;
}

/** The holder's view of one of its sessions. */
interface Tracked {
  session: ClientSession;
  sm: StreamManagement;
  username: string;
  backup: string | null;
  /** The next message to the backup must be a whole snapshot (a new backup, or one that missed an update). */
  full: boolean;
  appended: string[];
  /** What the last state sent was made of, to see a change without serializing. */
  sentPresence: Element | null | undefined;
  sentPriority: number;
  sentDirected: number;
}

export class SessionReplicas {
  private readonly tracked = new Map<string, Tracked>();
  private readonly dirty = new Set<Tracked>();
  private readonly ended = new Map<string, string[]>();
  private scheduled = false;
  /** Sessions this node backs up, by resumption id. */
  private readonly replicas = new Map<string, Replica>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: SessionReplicasDeps) {
    deps.events.on<ReplicaMessage>(SM_REPLICA_EVENT, (message) => {
      if (isReplicaMessage(message)) this.apply(message);
      return true;
    });
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** How many sessions this node backs up for others (for /status and tests). */
  get replicaCount(): number {
    return this.replicas.size;
  }

  // --- the holder's side -------------------------------------------------------------

  /** A resumable session whose state is to be kept on a backup from now on. */
  track(session: ClientSession, sm: StreamManagement, username: string): void {
    const id = sm.settings.id;
    if (id === null) return;
    const t: Tracked = { session, sm, username, backup: null, full: true, appended: [], sentPresence: undefined, sentPriority: 0, sentDirected: 0 };
    this.tracked.set(id, t);
    sm.observer = {
      sent: (stanza) => {
        if (!t.full && t.backup !== null) t.appended.push(typeof stanza === 'string' ? stanza : serialize(stanza));
        this.mark(t);
      },
      changed: () => this.mark(t),
    };
    this.mark(t);
  }

  /** The session ended here for good or moved: its backup forgets it. */
  untrack(sm: StreamManagement): void {
    const id = sm.settings.id;
    const t = id === null ? undefined : this.tracked.get(id);
    if (!t || id === null) return;
    sm.observer = null;
    this.tracked.delete(id);
    this.dirty.delete(t);
    if (t.backup !== null) {
      const list = this.ended.get(t.backup) ?? [];
      list.push(id);
      this.ended.set(t.backup, list);
      this.schedule();
    }
  }

  private mark(t: Tracked): void {
    // Standalone there is nobody to tell: the per-stanza cost is these two checks.
    if (!this.deps.enabled() || !this.deps.cluster().isClustered()) return;
    this.dirty.add(t);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private liveNodes(cluster: ClusterManager): string[] {
    return cluster.nodeIds().filter((n) => n !== this.deps.nodeId);
  }

  private flush(): void {
    this.scheduled = false;
    const cluster = this.deps.cluster();
    const out = new Map<string, ReplicaMessage>();
    const messageFor = (node: string): ReplicaMessage => {
      let m = out.get(node);
      if (!m) out.set(node, (m = { holder: this.deps.nodeId, snapshots: [], deltas: [], ended: [] }));
      return m;
    };
    for (const [node, ids] of this.ended) messageFor(node).ended.push(...ids);
    this.ended.clear();
    const clustered = cluster.isClustered() && this.deps.enabled();
    const nodes = clustered ? this.liveNodes(cluster) : [];
    for (const t of this.dirty) {
      const id = t.sm.settings.id!;
      const backup = clustered ? (ownerOf(id, nodes) ?? null) : null;
      if (backup !== t.backup) {
        if (t.backup !== null) messageFor(t.backup).ended.push(id);
        t.backup = backup;
        t.full = true;
      }
      if (backup === null || t.session.closed) {
        t.appended = [];
        continue;
      }
      if (t.full) {
        messageFor(backup).snapshots.push({ ...this.stateOf(t), sent: t.sm.queue.sent, inbound: t.sm.inbound, queued: t.sm.queue.pending().map(text) });
        t.full = false;
      } else {
        const delta: Delta = { id, inbound: t.sm.inbound, acked: t.sm.queue.acked, appended: t.appended };
        if (this.stateChanged(t)) delta.state = this.stateOf(t);
        messageFor(backup).deltas.push(delta);
      }
      t.appended = [];
    }
    this.dirty.clear();
    for (const [node, message] of out) {
      void cluster.sendEvent(node, SM_REPLICA_EVENT, message).then((taken) => {
        // A backup that missed an update gets the whole session next time.
        if (!taken) this.resend(node, message);
      }, () => this.resend(node, message));
    }
  }

  private resend(node: string, message: ReplicaMessage): void {
    for (const s of [...message.snapshots, ...message.deltas]) {
      const t = this.tracked.get(s.id);
      if (t && t.backup === node) t.full = true;
    }
  }

  private stateChanged(t: Tracked): boolean {
    const s = t.session;
    return s.presence !== t.sentPresence || s.priority !== t.sentPriority || s.directedPresence.size !== t.sentDirected;
  }

  private stateOf(t: Tracked): ReplicaState {
    const s = t.session;
    t.sentPresence = s.presence;
    t.sentPriority = s.priority;
    t.sentDirected = s.directedPresence.size;
    return {
      id: t.sm.settings.id!, username: t.username, jid: s.jid.toString(),
      presence: s.presence ? serialize(s.presence) : null, priority: s.priority, interested: s.interested,
      directed: [...s.directedPresence], resumeSeconds: t.sm.settings.resumeSeconds,
    };
  }

  /** Sessions whose backup changed, or whose presence changed without a stanza since, are sent again. */
  private sweep(): void {
    const cluster = this.deps.cluster();
    const clustered = cluster.isClustered() && this.deps.enabled();
    const nodes = clustered ? this.liveNodes(cluster) : [];
    for (const t of this.tracked.values()) {
      const backup = clustered ? (ownerOf(t.sm.settings.id!, nodes) ?? null) : null;
      if (backup !== t.backup || (backup !== null && (t.full || this.stateChanged(t)))) this.mark(t);
    }
    this.expireOrphans(cluster, clustered ? new Set(nodes) : new Set());
  }

  // --- the backup's side -------------------------------------------------------------

  private apply(message: ReplicaMessage): void {
    const { holder } = message;
    for (const id of message.ended) {
      if (this.replicas.get(id)?.holder === holder) this.replicas.delete(id);
    }
    for (const s of message.snapshots) {
      const queue = new UnackedQueue((s.sent - s.queued.length + 2 ** 32) % 2 ** 32);
      for (const stanza of s.queued) queue.push(stanza);
      const { sent: _sent, inbound, queued: _queued, ...state } = s;
      this.replicas.set(s.id, { holder, state, inbound, queue, orphanedAt: null });
    }
    for (const d of message.deltas) {
      const r = this.replicas.get(d.id);
      // A delta without its snapshot (this node missed it) is dropped; the holder sends the
      // whole session again when its send fails, and the sweep covers the rest.
      if (!r || r.holder !== holder) continue;
      for (const stanza of d.appended) r.queue.push(stanza);
      r.queue.ack(d.acked);
      r.inbound = d.inbound;
      if (d.state) r.state = d.state;
    }
  }

  /** Takes the replica of a session (for a resumption here or on another node); null if there is none. */
  take(id: string, username: string): Replica | null {
    const r = this.replicas.get(id);
    if (!r || r.state.username !== username) return null;
    this.replicas.delete(id);
    return r;
  }

  /**
   * Replicas whose holder left the cluster wait for their client as the session would have;
   * after its resumption time they are settled as a session ending for good.
   */
  private expireOrphans(cluster: ClusterManager, live: Set<string>): void {
    if (!this.replicas.size) return;
    const now = Date.now();
    const members = cluster.isClustered() ? live : null;
    for (const [id, r] of this.replicas) {
      if (members === null || members.has(r.holder)) {
        r.orphanedAt = null;
        continue;
      }
      r.orphanedAt ??= now;
      if (now - r.orphanedAt < r.state.resumeSeconds * 1000) continue;
      this.replicas.delete(id);
      const jid = JID.tryParse(r.state.jid);
      const stanzas = r.queue.drain();
      this.deps.log.info('replica of a session of a departed node expired; its unacknowledged stanzas are settled', { jid: r.state.jid, holder: r.holder, unacked: stanzas.length });
      if (jid) this.deps.settle(jid, stanzas);
    }
  }
}

const text = (s: SentStanza): string => (typeof s === 'string' ? s : serialize(s));

function isReplicaMessage(m: unknown): m is ReplicaMessage {
  const x = m as ReplicaMessage;
  return typeof x?.holder === 'string' && Array.isArray(x.snapshots) && Array.isArray(x.deltas) && Array.isArray(x.ended);
}
