// Resumption on another node of the cluster (XEP-0198 over many nodes). A client whose node
// died, or whose balancer sent it elsewhere, sends <resume/> to a node that does not hold its
// session. That node asks the nodes that may hold it (the one named in the resumption id,
// and those where the account has routes) with a `remote/sm-takeover` event; the holder
// checks the count, closes the old connection, unbinds the session there without telling
// anyone it went offline, waits for its route to be removed, and answers with a
// `remote/sm-handover` event carrying the session's state and unacknowledged stanzas. The
// asking node binds the session again under the same JID and the same resumption id.
// When no holder answers (it died, or is unreachable), the node asks every other node once
// more, for a replica (session-replicas.ts): the node that backs the session up hands it
// over from its copy, tells the holder to let go of it should it still live, and the new
// node announces the session's presence again, since the survivors of a dead holder told
// its contacts it went offline. Without a replica the client is told item-not-found.
import { randomBytes } from 'node:crypto';
import { SESSIONS_RESTORED, type ClusterJoinedEvent } from '../../cluster/cluster-events.ts';
import type { ClusterManager } from '../../cluster/cluster-manager.ts';
import type { EventBus } from '../../events/event-bus.ts';
import { JID } from '../../jid/jid.ts';
import type { Logger } from '../../log.ts';
import { ClientSession } from '../../session/client-session.ts';
import type { SessionManager } from '../../session/session-manager.ts';
import type { ServerStats } from '../../stats.ts';
import type { Transport } from '../../transport/transport.ts';
import { serialize } from '../../xml/element.ts';
import { StreamError } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { nodeOfResumptionId, type ResumableSessions } from './resumable-sessions.ts';
import type { SessionReplicas } from './session-replicas.ts';
import type { StreamManagement } from './stream-management.ts';

export const SM_TAKEOVER_EVENT = 'remote/sm-takeover';
export const SM_HANDOVER_EVENT = 'remote/sm-handover';
/** A session was handed over from its replica: its holder, if alive, lets go of it without a word. */
export const SM_REPLICA_TAKEN_EVENT = 'remote/sm-replica-taken';
/** How long the asking node waits for the holder's answer. */
const ANSWER_TIMEOUT_MS = 5_000;

interface TakeoverRequest {
  token: string;
  requester: string;
  id: string;
  username: string;
  h: number;
  /** The second round: answer from a replica, the holder did not. */
  fromReplica?: boolean;
}

interface ReplicaTaken {
  id: string;
  username: string;
  node: string;
}

interface HandoverAnswer {
  token: string;
  /** 'moved': the state follows; 'bad-count': h was beyond what was sent; 'not-here'. */
  outcome: 'moved' | 'bad-count' | 'not-here';
  id?: string;
  sent?: number;
  inbound?: number;
  jid?: string;
  presence?: string | null;
  priority?: number;
  interested?: boolean;
  directed?: string[];
  queued?: string[];
  resumeSeconds?: number;
  /** Handed over from a replica: the session's contacts may have been told it went offline. */
  fromReplica?: boolean;
}

/** What travels with a session to its new node. */
type CarriedSession = Required<Pick<HandoverAnswer, 'sent' | 'inbound' | 'jid' | 'presence' | 'priority' | 'interested' | 'directed' | 'queued' | 'resumeSeconds'>>;

export type TakeoverResult =
  | { kind: 'moved'; session: ClientSession; sm: StreamManagement }
  | { kind: 'bad-count'; sent: number; inbound: number }
  | { kind: 'not-found' };

export interface SessionHandoverDeps {
  nodeId: string;
  domain: string;
  resumable: ResumableSessions;
  replicas: SessionReplicas;
  sessions: Pick<SessionManager, 'bind' | 'unbind' | 'routingTable'>;
  cluster(): ClusterManager;
  events: Pick<EventBus, 'on' | 'fire'>;
  stats: ServerStats;
  log: Logger;
}

export class SessionHandover {
  private readonly waiting = new Map<string, (answer: HandoverAnswer) => void>();

  constructor(private readonly deps: SessionHandoverDeps) {
    deps.events.on<TakeoverRequest>(SM_TAKEOVER_EVENT, (request) => {
      if (isTakeoverRequest(request)) void this.handOver(request);
      return true;
    });
    deps.events.on<HandoverAnswer>(SM_HANDOVER_EVENT, (answer) => {
      if (typeof answer?.token === 'string') this.waiting.get(answer.token)?.(answer);
      return true;
    });
    deps.events.on<ReplicaTaken>(SM_REPLICA_TAKEN_EVENT, (taken) => {
      if (typeof taken?.id === 'string' && typeof taken.username === 'string') void this.letGoOfTaken(taken);
      return true;
    });
  }

  /** Asks the other nodes for a session this node does not hold; binds it here if one hands it over. */
  async takeOver(id: string, username: string, h: number, transport: Transport, streamId: string): Promise<TakeoverResult> {
    const cluster = this.deps.cluster();
    if (!cluster.isClustered()) return { kind: 'not-found' };
    const nodes = new Set<string>();
    const named = nodeOfResumptionId(id);
    if (named) nodes.add(named);
    for (const route of this.deps.sessions.routingTable.getRoutes(`${username}@${this.deps.domain}`)) nodes.add(route.nodeId);
    nodes.delete(this.deps.nodeId);
    const answer = (nodes.size ? await this.ask(cluster, nodes, { id, username, h }) : null)
      // Nobody holds it: perhaps its holder died. This node may have its replica, or another.
      ?? this.fromReplica(id, username, h)
      ?? await this.ask(cluster, this.otherNodes(cluster), { id, username, h, fromReplica: true });
    if (!answer) return { kind: 'not-found' };
    if (answer.outcome === 'bad-count') return { kind: 'bad-count', sent: answer.sent ?? 0, inbound: answer.inbound ?? 0 };
    return this.adopt(answer, username, transport, streamId);
  }

  private otherNodes(cluster: ClusterManager): Set<string> {
    return new Set(cluster.nodeIds().filter((n) => n !== this.deps.nodeId));
  }

  /** Sends a takeover request to `nodes`; the first answer that is not 'not-here', or null. */
  private async ask(cluster: ClusterManager, nodes: Set<string>, what: Omit<TakeoverRequest, 'token' | 'requester'>): Promise<HandoverAnswer | null> {
    if (!nodes.size) return null;
    const token = randomBytes(12).toString('base64url');
    const request: TakeoverRequest = { token, requester: this.deps.nodeId, ...what };
    return new Promise<HandoverAnswer | null>((resolve) => {
      let pending = nodes.size;
      const done = (a: HandoverAnswer | null): void => {
        clearTimeout(timer);
        this.waiting.delete(token);
        resolve(a);
      };
      const timer = setTimeout(() => done(null), ANSWER_TIMEOUT_MS);
      // Only the holder can answer 'moved' or 'bad-count'; the others say 'not-here'.
      const refused = (): void => { if (--pending === 0) done(null); };
      this.waiting.set(token, (a) => (a.outcome === 'not-here' ? refused() : done(a)));
      for (const node of nodes) void cluster.sendEvent(node, SM_TAKEOVER_EVENT, request).then((taken) => { if (!taken) refused(); });
    });
  }

  private adopt(answer: Omit<HandoverAnswer, 'token'>, username: string, transport: Transport, streamId: string): TakeoverResult {
    const jid = JID.tryParse(answer.jid);
    if (!jid || jid.local !== username || jid.domain !== this.deps.domain || !answer.id) return { kind: 'not-found' };
    const session = new ClientSession(streamId, jid, transport, this.deps.stats);
    session.presence = answer.presence ? parseXml(answer.presence) : null;
    session.priority = answer.priority ?? 0;
    session.interested = answer.interested === true;
    for (const target of answer.directed ?? []) session.directedPresence.add(target);
    this.deps.sessions.bind(session);
    const sm = this.deps.resumable.enable(session, username, answer.resumeSeconds ?? 0, {
      id: answer.id, sent: answer.sent ?? 0, inbound: answer.inbound ?? 0, queued: answer.queued ?? [],
    });
    this.deps.log.info(answer.fromReplica ? 'session taken over from its replica' : 'session taken over from another node', { jid: jid.toString(), resent: sm.queue.length });
    if (answer.fromReplica) this.deps.events.fire<ClusterJoinedEvent>(SESSIONS_RESTORED, { sessions: [jid.toString()] });
    return { kind: 'moved', session, sm };
  }

  /** The holder's side: hands the session over, or says why not. */
  private async handOver(request: TakeoverRequest): Promise<void> {
    const { resumable, log } = this.deps;
    const reply = (answer: Omit<HandoverAnswer, 'token'>): void => {
      void this.deps.cluster().sendEvent(request.requester, SM_HANDOVER_EVENT, { token: request.token, ...answer });
    };
    if (request.fromReplica) return this.handOverReplica(request, reply);
    const found = resumable.find(request.id, request.username);
    if (!found) return reply({ outcome: 'not-here' });
    const { session, sm } = found;
    if (sm.acked(request.h) === 'too-high') {
      reply({ outcome: 'bad-count', sent: sm.queue.sent, inbound: sm.inbound });
      if (session.detached) resumable.end(session, sm, 'resumption with a bad count on another node');
      else session.close(new StreamError('undefined-condition', 'A resumption of this session gave a bad count'));
      return;
    }
    const state = await this.letGo(session, sm, request.requester);
    log.info('session handed over to another node', { jid: state.jid, node: request.requester, unacked: state.queued.length });
    reply({ outcome: 'moved', id: request.id, ...state });
  }

  /**
   * Unbinds a session that goes on elsewhere, without telling anyone it went offline, and
   * returns what the new node needs of it.
   */
  private async letGo(session: ClientSession, sm: StreamManagement, node: string): Promise<CarriedSession> {
    const { resumable, sessions } = this.deps;
    // What a hold kept goes into the queue first, so it travels with the rest.
    const hold = session.hold;
    session.hold = null;
    hold?.flush();
    resumable.release(sm);
    session.sentLog = null;
    session.onDetachedClose = null;
    session.detach()?.close(new StreamError('conflict', 'The session was resumed on another node'));
    const state = {
      sent: sm.queue.sent,
      inbound: sm.inbound,
      jid: session.jid.toString(),
      presence: session.presence ? serialize(session.presence) : null,
      priority: session.priority,
      interested: session.interested,
      directed: [...session.directedPresence],
      queued: sm.queue.drain().map((s) => (typeof s === 'string' ? s : serialize(s))),
      resumeSeconds: sm.settings.resumeSeconds,
    };
    // The session goes on elsewhere: nobody is told it went offline.
    session.presence = null;
    session.directedPresence.clear();
    await sessions.unbind(session, `resumed on node ${node}`);
    return state;
  }

  /** A backup's side: hands over the replica of a session whose holder did not answer. */
  private handOverReplica(request: TakeoverRequest, reply: (answer: Omit<HandoverAnswer, 'token'>) => void): void {
    reply(this.fromReplica(request.id, request.username, request.h, request.requester) ?? { outcome: 'not-here' });
  }

  /**
   * The session as this node's replica of it has it, for a resumption on `node` (this one by
   * default); null if this node has none.
   */
  private fromReplica(id: string, username: string, h: number, node = this.deps.nodeId): Omit<HandoverAnswer, 'token'> | null {
    const replica = this.deps.replicas.take(id, username);
    if (!replica) return null;
    if (replica.queue.ack(h) === 'too-high') {
      // As for a held session given a bad count: it ends, and what it had queued is settled.
      const jid = JID.tryParse(replica.state.jid);
      if (jid) this.deps.resumable.settle(jid, replica.queue.drain());
      return { outcome: 'bad-count', sent: replica.queue.sent, inbound: replica.inbound };
    }
    const { state } = replica;
    this.deps.log.info('session handed over from its replica', { jid: state.jid, holder: replica.holder, node });
    // A holder that was only unreachable must not go on with a second copy of the session.
    void this.deps.cluster().sendEvent(replica.holder, SM_REPLICA_TAKEN_EVENT, { id: state.id, username: state.username, node } satisfies ReplicaTaken);
    return {
      outcome: 'moved', fromReplica: true, id: state.id, sent: replica.queue.sent, inbound: replica.inbound, jid: state.jid,
      presence: state.presence, priority: state.priority, interested: state.interested, directed: state.directed,
      queued: replica.queue.drain().map((s) => (typeof s === 'string' ? s : serialize(s))), resumeSeconds: state.resumeSeconds,
    };
  }

  /** The holder's side of SM_REPLICA_TAKEN_EVENT: the session lives on elsewhere now. */
  private async letGoOfTaken(taken: ReplicaTaken): Promise<void> {
    const found = this.deps.resumable.find(taken.id, taken.username);
    if (!found) return;
    await this.letGo(found.session, found.sm, taken.node);
    this.deps.log.warn('session was resumed from its replica on another node while this node held it', { jid: found.session.jid.toString(), node: taken.node });
  }
}

function isTakeoverRequest(r: unknown): r is TakeoverRequest {
  const x = r as TakeoverRequest;
  return typeof x?.token === 'string' && typeof x.requester === 'string' && typeof x.id === 'string'
    && typeof x.username === 'string' && Number.isInteger(x.h) && (x.fromReplica === undefined || typeof x.fromReplica === 'boolean');
}
