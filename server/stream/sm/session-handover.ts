// Resumption on another node of the cluster (XEP-0198 over many nodes). A client whose node
// died, or whose balancer sent it elsewhere, sends <resume/> to a node that does not hold its
// session. That node asks the nodes that may hold it (the one named in the resumption id,
// and those where the account has routes) with a `remote/sm-takeover` event; the holder
// checks the count, closes the old connection, unbinds the session there without telling
// anyone it went offline, waits for its route to be removed, and answers with a
// `remote/sm-handover` event carrying the session's state and unacknowledged stanzas. The
// asking node binds the session again under the same JID and the same resumption id.
// A node that is gone takes its sessions with it: the client is told item-not-found.
import { randomBytes } from 'node:crypto';
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
import type { StreamManagement } from './stream-management.ts';

export const SM_TAKEOVER_EVENT = 'remote/sm-takeover';
export const SM_HANDOVER_EVENT = 'remote/sm-handover';
/** How long the asking node waits for the holder's answer. */
const ANSWER_TIMEOUT_MS = 5_000;

interface TakeoverRequest {
  token: string;
  requester: string;
  id: string;
  username: string;
  h: number;
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
}

export type TakeoverResult =
  | { kind: 'moved'; session: ClientSession; sm: StreamManagement }
  | { kind: 'bad-count'; sent: number; inbound: number }
  | { kind: 'not-found' };

export interface SessionHandoverDeps {
  nodeId: string;
  domain: string;
  resumable: ResumableSessions;
  sessions: Pick<SessionManager, 'bind' | 'unbind' | 'routingTable'>;
  cluster(): ClusterManager;
  events: Pick<EventBus, 'on'>;
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
    if (!nodes.size) return { kind: 'not-found' };

    const token = randomBytes(12).toString('base64url');
    const request: TakeoverRequest = { token, requester: this.deps.nodeId, id, username, h };
    const answer = await new Promise<HandoverAnswer | null>((resolve) => {
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
    if (!answer) return { kind: 'not-found' };
    if (answer.outcome === 'bad-count') return { kind: 'bad-count', sent: answer.sent ?? 0, inbound: answer.inbound ?? 0 };
    return this.adopt(answer, username, transport, streamId);
  }

  private adopt(answer: HandoverAnswer, username: string, transport: Transport, streamId: string): TakeoverResult {
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
    this.deps.log.info('session taken over from another node', { jid: jid.toString(), resent: sm.queue.length });
    return { kind: 'moved', session, sm };
  }

  /** The holder's side: hands the session over, or says why not. */
  private async handOver(request: TakeoverRequest): Promise<void> {
    const { resumable, sessions, log } = this.deps;
    const reply = (answer: Omit<HandoverAnswer, 'token'>): void => {
      void this.deps.cluster().sendEvent(request.requester, SM_HANDOVER_EVENT, { token: request.token, ...answer });
    };
    const found = resumable.find(request.id, request.username);
    if (!found) return reply({ outcome: 'not-here' });
    const { session, sm } = found;
    if (sm.acked(request.h) === 'too-high') {
      reply({ outcome: 'bad-count', sent: sm.queue.sent, inbound: sm.inbound });
      if (session.detached) resumable.end(session, sm, 'resumption with a bad count on another node');
      else session.close(new StreamError('undefined-condition', 'A resumption of this session gave a bad count'));
      return;
    }
    // What a hold kept goes into the queue first, so it travels with the rest.
    const hold = session.hold;
    session.hold = null;
    hold?.flush();
    resumable.release(sm);
    session.sentLog = null;
    session.onDetachedClose = null;
    session.detach()?.close(new StreamError('conflict', 'The session was resumed on another node'));
    const state = {
      outcome: 'moved' as const,
      id: request.id,
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
    await sessions.unbind(session, `resumed on node ${request.requester}`);
    log.info('session handed over to another node', { jid: state.jid, node: request.requester, unacked: state.queued.length });
    reply(state);
  }
}

function isTakeoverRequest(r: unknown): r is TakeoverRequest {
  const x = r as TakeoverRequest;
  return typeof x?.token === 'string' && typeof x.requester === 'string' && typeof x.id === 'string'
    && typeof x.username === 'string' && Number.isInteger(x.h);
}
