// Event notifications (XEP-0163 section 4): a headline message from the owner's bare JID to
// every available resource, on any node of the cluster, that asked for the node with
// `<node>+notify` in its caps and may see the node: the owner's own resources and the
// resources of contacts the owner shares presence with. All of them get the same message
// (one id), written once per node through Kernel.deliverEach.
import { randomBytes } from 'node:crypto';
import { JID } from '../../jid/jid.ts';
import type { RouteEntry } from '../../routing/routing-table.ts';
import type { PepItem, PepNode } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { hasFrom } from '../roster/roster-item.ts';
import { mayAccess } from './access.ts';
import { capsOf } from './caps.ts';
import { NS_DELAY, NS_PUBSUB_EVENT } from './namespaces.ts';
import { isOn } from './node-config.ts';
import type { PepDeps } from './pep-deps.ts';

/** `to` left out for a message that deliverEach addresses. */
export function eventMessage(from: string, to: string | undefined, content: Element): Element {
  return xml('message', { xmlns: 'jabber:client', type: 'headline', from, to, id: randomBytes(6).toString('hex') },
    xml('event', { xmlns: NS_PUBSUB_EVENT }, content));
}

/** `<item id>` with its payload, as notifications and retrieval carry it. */
export function itemElement(item: PepItem, withPayload: boolean): Element {
  const el = xml('item', { id: item.id });
  if (withPayload) el.append(parseXml(item.payload));
  return el;
}

export function itemsEvent(node: PepNode, items: readonly PepItem[]): Element {
  const payloads = isOn(node.config, 'pubsub#deliver_payloads');
  return xml('items', { node: node.node }, ...items.map((i) => itemElement(i, payloads)));
}

/** Whether an available resource asked for notifications of the node. */
async function wants(d: PepDeps, route: RouteEntry, node: string): Promise<boolean> {
  const caps = capsOf(route.presence);
  if (!caps) return false;
  const features = await d.caps.features(caps);
  return features?.has(`${node}+notify`) ?? false;
}

/** Sends `content` (<items/>, <delete/>) to every resource that wants notifications of the node. */
export async function notify(d: PepDeps, node: PepNode, content: Element): Promise<void> {
  if (!isOn(node.config, 'pubsub#deliver_notifications')) return;
  const { kernel } = d;
  const owner = JID.fromPrepared(node.owner, kernel.domain).toString();
  const roster = await d.rosters.load(node.owner);
  const accounts = [owner];
  for (const item of roster.items.values()) {
    if (hasFrom(item) && item.jid.endsWith(`@${kernel.domain}`)) accounts.push(item.jid);
  }
  const recipients: string[] = [];
  for (const account of accounts) {
    const routes = kernel.routes(account).filter((r) => r.available);
    if (!routes.length) continue;
    if (account !== owner && !(await mayAccess(d, node, JID.parse(account)))) continue;
    for (const route of routes) {
      if (await wants(d, route, node.node)) recipients.push(route.jid);
    }
  }
  // One message for them all, each copy addressed by deliverEach, which crosses to each other
  // node once. A headline that reaches nobody is dropped (RFC 6121 8.5.3.2.1), so what it
  // returns needs no fallback.
  if (recipients.length) await kernel.deliverEach(eventMessage(owner, undefined, content), recipients);
}

/** The last item of a node, as sent when a resource becomes available (4.3.4), with its date. */
export function lastItemMessage(node: PepNode, item: PepItem, domain: string, to: string): Element {
  const owner = JID.fromPrepared(node.owner, domain).toString();
  const message = eventMessage(owner, to, itemsEvent(node, [item]));
  message.append(xml('delay', { xmlns: NS_DELAY, from: owner, stamp: item.publishedAt.toISOString() }));
  return message;
}
