// Retrieving items (XEP-0060 6.5) by anyone the access model lets see the node, and
// retracting them (7.2) by the owner, with a notification when asked or configured.
import type { IqRequest } from '../../extension/module-context.ts';
import type { PepNode } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { requireAccess } from './access.ts';
import { NS_PUBSUB } from './namespaces.ts';
import { isOn } from './node-config.ts';
import { itemElement, notify } from './notifications.ts';
import { PEP_RETRACTED, type PepDeps, type PepRetractedEvent } from './pep-deps.ts';
import { nodeNotFound, pubsubFailure } from './pubsub-errors.ts';

export function nodeName(el: Element): string {
  const name = el.attrs.node;
  if (!name) throw pubsubFailure('bad-request', 'nodeid-required', 'Name the node');
  return name;
}

export async function existingNode(d: PepDeps, req: IqRequest, name: string): Promise<PepNode> {
  const node = await d.repo.getNode(req.to.local, name);
  if (!node) throw nodeNotFound();
  return node;
}

function itemIds(el: Element): string[] {
  return el.getChildren('item').map((item) => {
    const id = item.attrs.id;
    if (!id) throw pubsubFailure('bad-request', 'item-required', 'Each item needs an id');
    return id;
  });
}

export async function retrieve(d: PepDeps, req: IqRequest, el: Element): Promise<Element> {
  const node = await existingNode(d, req, nodeName(el));
  await requireAccess(d, node, req.from);
  const ids = itemIds(el);
  let max: number | undefined;
  if (el.attrs.max_items !== undefined) {
    if (!/^\d{1,9}$/.test(el.attrs.max_items)) throw new StanzaError('bad-request', 'max_items is a number');
    max = Number(el.attrs.max_items);
  }
  const items = ids.length ? await d.repo.items(node.id, { ids }) : await d.repo.items(node.id, { max });
  if (ids.length && !items.length) throw new StanzaError('item-not-found', 'No such item');
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: node.node }, ...items.map((i) => itemElement(i, true))));
}

export async function retract(d: PepDeps, req: IqRequest, el: Element): Promise<void> {
  const node = await existingNode(d, req, nodeName(el));
  const ids = itemIds(el);
  if (!ids.length) throw pubsubFailure('bad-request', 'item-required', 'Name the item to retract');
  const asked = el.attrs.notify;
  const notifying = asked === undefined ? isOn(node.config, 'pubsub#notify_retract') : asked === 'true' || asked === '1';
  if (!(await retractItems(d, node, ids, notifying)).length) throw new StanzaError('item-not-found', 'No such item');
}

/** Removes the items that exist, tells of it if asked and fires PEP_RETRACTED; returns their ids. */
export async function retractItems(d: PepDeps, node: PepNode, ids: readonly string[], notifying: boolean): Promise<string[]> {
  const gone: string[] = [];
  for (const id of ids) if (await d.repo.retract(node.id, id)) gone.push(id);
  if (!gone.length) return gone;
  d.kernel.fire<PepRetractedEvent>(PEP_RETRACTED, { owner: node.owner, node: node.node, itemIds: gone });
  if (notifying) {
    const event = xml('items', { node: node.node }, ...gone.map((id) => xml('retract', { id })));
    notify(d, node, event).catch((err) => d.kernel.reportError('PEP notification failed', err));
  }
  return gone;
}
