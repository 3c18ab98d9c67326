// The Kernel that modules and plugins see, built over the server's own parts. Each method
// forwards to the one part that owns the answer; nothing here holds state.
import type { ClusterManager } from '../cluster/cluster-manager.ts';
import { REMOTE_EVENT_PREFIX } from '../cluster/cluster-manager.ts';
import type { AccountDeletions } from '../accounts/account-deletions.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { RouteHold } from '../routing/route-hold.ts';
import type { Router } from '../routing/router.ts';
import { endSessions } from '../session/end-sessions.ts';
import type { SessionManager } from '../session/session-manager.ts';
import type { Kernel } from './kernel.ts';

export interface KernelParts {
  version: string;
  nodeId: string;
  plaintextAuthAllowed: boolean;
  router: Router;
  sessions: SessionManager;
  events: EventBus;
  /** The cluster manager in use now (standalone unless the clustering plugin installed one). */
  cluster(): ClusterManager;
  accounts: Pick<AccountDeletions, 'delete'>;
  /** Where messages wait for an account briefly without a route (none: they never wait). */
  routeHold?: Pick<RouteHold, 'expect' | 'expects'>;
}

export function createKernel(parts: KernelParts): Kernel {
  const { router, sessions, events } = parts;
  return {
    domain: router.domainJid.domain,
    domainJid: router.domainJid,
    version: parts.version,
    nodeId: parts.nodeId,
    plaintextAuthAllowed: parts.plaintextAuthAllowed,
    route: (stanza, from, origin) => router.route(stanza, from, origin ?? null),
    deliverToFull: (fullJid, stanza) => router.deliverToFull(fullJid, stanza),
    deliverEach: (stanza, recipients) => router.deliverEach(stanza, recipients),
    deliverSerialized: (fullJid, xml) => sessions.get(fullJid)?.sendSerialized(xml) ?? false,
    bounce: (stanza, error) => router.bounce(stanza, error),
    sendIq: (iq, timeoutMs) => router.sendIq(iq, timeoutMs),
    reportError: (context, err) => router.reportError(context, err),
    localSession: (fullJid) => sessions.get(fullJid),
    localSessions: (bareJid) => sessions.ofUser(bareJid),
    routes: (bareJid) => sessions.routingTable.getRoutes(bareJid),
    routeOf: (fullJid) => sessions.routingTable.getRoute(fullJid),
    presenceChanged: (session) => sessions.presenceChanged(session),
    setRouteTag: (session, tag, on) => {
      if (session.routeTags.has(tag) === on) return;
      if (on) session.routeTags.add(tag);
      else session.routeTags.delete(tag);
      // The route is written again as a whole, as for a change of presence.
      sessions.presenceChanged(session);
    },
    endSession: (session, error, reason) => sessions.end(session, error, reason),
    endSessions: (request) => endSessions({ sessions, cluster: parts.cluster }, request),
    deleteAccount: (username) => parts.accounts.delete(username, 'module'),
    fire: (event, payload) => events.fire(event, payload),
    broadcast: (event, payload) => {
      remoteOnly(event);
      parts.cluster().broadcast(event, payload);
    },
    sendEvent: (nodeId, event, payload) => {
      remoteOnly(event);
      return parts.cluster().sendEvent(nodeId, event, payload);
    },
    clustered: () => parts.cluster().isClustered(),
    clusterNodes: () => parts.cluster().nodeIds(),
    expectRoutes: (bareJids, forMs) => parts.routeHold?.expect(bareJids, forMs),
    routesExpected: (bareJid) => parts.routeHold?.expects(bareJid) ?? false,
  };
}

function remoteOnly(event: string): void {
  if (!event.startsWith(REMOTE_EVENT_PREFIX)) throw new Error(`cluster-wide events are named ${REMOTE_EVENT_PREFIX}...; got ${event}`);
}
