// Sending to an account's resources, and presence on behalf of them: shared by subscription
// handling and presence broadcast.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import type { Kernel } from '../../extension/kernel.ts';

/** RFC 6121 8.5.2.1.2: presence to a bare JID goes to every available resource. Returns how many. */
export function deliverToAvailable(kernel: Kernel, bareJid: string, stanza: Element): number {
  let n = 0;
  for (const route of kernel.routes(bareJid)) {
    if (!route.available) continue;
    void kernel.deliverToFull(route.jid, stanza);
    n++;
  }
  return n;
}

/**
 * Approvals and cancellations go to interested resources (RFC 6121 3.1.6, 3.2.3, 3.3.3),
 * requests to available ones; both kinds reach a resource that is either.
 */
export function deliverToInterested(kernel: Kernel, bareJid: string, stanza: Element): void {
  const reached = new Set<string>();
  for (const session of kernel.localSessions(bareJid)) {
    if (!session.interested && !session.available) continue;
    session.send(stanza);
    reached.add(session.jid.toString());
  }
  for (const route of kernel.routes(bareJid)) {
    if (route.available && !reached.has(route.jid)) void kernel.deliverToFull(route.jid, stanza);
  }
}

/**
 * Available resources of an account wherever they are connected (every node of a cluster),
 * with the presence each last broadcast.
 */
export function availableResources(kernel: Kernel, bare: JID): { jid: string; presence: Element }[] {
  const out: { jid: string; presence: Element }[] = [];
  for (const route of kernel.routes(bare.toString())) {
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
export function sendPresenceOf(kernel: Kernel, user: JID, to: string): number {
  const resources = availableResources(kernel, user);
  for (const r of resources) kernel.route(resourcePresence(r, to), JID.parse(r.jid));
  return resources.length;
}

/** Sends unavailable presence from each available resource of `user` to `to`. */
export function sendUnavailableOf(kernel: Kernel, user: JID, to: string): void {
  for (const r of availableResources(kernel, user)) {
    kernel.route(xml('presence', { xmlns: 'jabber:client', type: 'unavailable', from: r.jid, to }), JID.parse(r.jid));
  }
}
