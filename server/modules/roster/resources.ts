// Sending to an account's resources, and presence on behalf of them: shared by subscription
// handling and presence broadcast.
import type { JID } from '../../jid/jid.ts';
import type { ClientSession } from '../../session/client-session.ts';
import { xml, type Element } from '../../xml/element.ts';
import type { ServerContext } from '../server-context.ts';

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

/** The last presence a session broadcast, readdressed. */
export function presenceCopy(session: ClientSession, to: string): Element {
  const copy = session.presence!.clone();
  copy.attrs.xmlns ??= 'jabber:client';
  copy.attrs.from = session.jid.toString();
  copy.attrs.to = to;
  return copy;
}

/** Available sessions of an account on this node. */
export function availableSessions(server: ServerContext, bare: JID): ClientSession[] {
  const out: ClientSession[] = [];
  for (const s of server.sessions.ofUser(bare.toString())) if (s.available && !s.closed) out.push(s);
  return out;
}

/** Sends the current presence of each available resource of `user` to `to`. Returns how many. */
export function sendPresenceOf(server: ServerContext, user: JID, to: string): number {
  const sessions = availableSessions(server, user);
  for (const s of sessions) server.router.route(presenceCopy(s, to), s.jid);
  return sessions.length;
}

/** Sends unavailable presence from each available resource of `user` to `to`. */
export function sendUnavailableOf(server: ServerContext, user: JID, to: string): void {
  for (const s of availableSessions(server, user)) {
    server.router.route(xml('presence', { xmlns: 'jabber:client', type: 'unavailable', from: s.jid.toString(), to }), s.jid);
  }
}
