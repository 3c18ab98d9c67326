// Ending sessions on purpose (an account removed, an administrator's kick), wherever they
// are connected: this node closes its own, and asks the other nodes of a cluster to close
// theirs through a `remote/` event, which every node listens for.
import type { ClusterManager } from '../cluster/cluster-manager.ts';
import type { EventBus } from '../events/event-bus.ts';
import { JID } from '../jid/jid.ts';
import { StreamError, type StreamErrorCondition } from '../xml/errors.ts';
import type { SessionManager } from './session-manager.ts';

export const END_SESSIONS_REMOTE = 'remote/end-sessions';

export interface EndSessionsRequest {
  /** A bare JID ends every session of the account; a full JID that one session. */
  jid: string;
  condition: StreamErrorCondition;
  text?: string;
}

/** Closes the matching sessions of this node; returns how many. */
function endLocal(sessions: SessionManager, request: EndSessionsRequest): number {
  const jid = JID.tryParse(request.jid);
  if (!jid) return 0;
  const targets = jid.resource ? [sessions.get(jid.toString())].filter((s) => s !== undefined) : [...sessions.ofUser(jid.toString())];
  for (const s of targets) sessions.end(s, new StreamError(request.condition, request.text), `ended: ${request.condition}`);
  return targets.length;
}

/** Ends the sessions here and on every other node; returns how many were here. */
export function endSessions(deps: { sessions: SessionManager; cluster(): ClusterManager }, request: EndSessionsRequest): number {
  deps.cluster().broadcast(END_SESSIONS_REMOTE, request);
  return endLocal(deps.sessions, request);
}

/** Lets other nodes end sessions held here (wired once, at start). */
export function listenForRemoteEnds(events: EventBus, sessions: SessionManager): () => void {
  return events.on<EndSessionsRequest>(END_SESSIONS_REMOTE, (request) => {
    endLocal(sessions, request);
    return false;
  });
}
