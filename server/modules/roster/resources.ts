// Sending to an account's resources, and presence on behalf of them: shared by subscription
// handling and presence broadcast.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import type { ServerContext } from '../../server-context.ts';

/** RFC 6121 8.5.2.1.2: presence to a bare JID goes to every available resource. Returns how many. */
export function deliverToAvailable(server: ServerContext, bareJid: string, stanza: Element): number {
  let n = 0;
  for (const route of server.sessions.routingTable.getRoutes(bareJid)) {
    if (!route.available) continue;
    void server.router.deliverToFull(route.jid, stanza);
    n++;
  }
  return n;
}

/**
 * Approvals and cancellations go to interested resources (RFC 6121 3.1.6, 3.2.3, 3.3.3),
 * requests to available ones; both kinds reach a resource that is either.
 */
export function deliverToInterested(server: ServerContext, bareJid: string, stanza: Element): void {
  const reached = new Set<string>();
  for (const session of server.sessions.ofUser(bareJid)) {
    if (!session.interested && !session.available) continue;
    session.send(stanza);
    reached.add(session.jid.toString());
  }
  for (const route of server.sessions.routingTable.getRoutes(bareJid)) {
    if (route.available && !reached.has(route.jid)) void server.router.deliverToFull(route.jid, stanza);
  }
}

/**
 * Available resources of an account wherever they are connected (every node of a cluster),
 * with the presence each last broadcast.
 */
export function availableResources(server: ServerContext, bare: JID): { jid: string; presence: Element }[] {
  const out: { jid: string; presence: Element }[] = [];
  for (const route of server.sessions.routingTable.getRoutes(bare.toString())) {
    if (route.available && route.presence) out.push({ jid: route.jid, presence: route.presence });
  }
  return out;
}

/** The current presence of one available resource, addressed to `to`. */
export function resourcePresence(resource: { jid: string; presence: Element }, to: string): Element {
  const copy = resource.presence.clone();
  copy.attrs.xmlns ??= 'jabber:client';
  copy.attrs.from = resource.jid;
  copy.attrs.to = to;
  return copy;
}

/** Sends the current presence of each available resource of `user` to `to`. Returns how many. */
export function sendPresenceOf(server: ServerContext, user: JID, to: string): number {
  const resources = availableResources(server, user);
  for (const r of resources) server.router.route(resourcePresence(r, to), JID.parse(r.jid));
  return resources.length;
}

/** Sends unavailable presence from each available resource of `user` to `to`. */
export function sendUnavailableOf(server: ServerContext, user: JID, to: string): void {
  for (const r of availableResources(server, user)) {
    server.router.route(xml('presence', { xmlns: 'jabber:client', type: 'unavailable', from: r.jid, to }), JID.parse(r.jid));
  }
}
