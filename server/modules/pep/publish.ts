// Publishing (XEP-0060 7.1) to a node of one's own account, which creates the node if it
// does not exist (XEP-0163 3, auto-create) with the publish-options given (7.1.5); for an
// existing node the options are a precondition the node's configuration must meet.
import { randomBytes } from 'node:crypto';
import type { IqRequest } from '../../extension/module-context.ts';
import type { PepNode } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { formIn, formValues } from './data-form.ts';
import { NS_PUBLISH_OPTIONS, NS_PUBSUB } from './namespaces.ts';
import { applyOptions, maxItemsOf, optionsMatch, type NodeConfig } from './node-config.ts';
import { itemsEvent, notify } from './notifications.ts';
import { PEP_PUBLISHED, type PepDeps, type PepPublishedEvent } from './pep-deps.ts';
import { pubsubFailure } from './pubsub-errors.ts';

const preconditionNotMet = (): StanzaError => pubsubFailure('conflict', 'precondition-not-met', 'The publish-options do not match the node\'s configuration');

/** The publish-options form's values, or null when none was given. */
function publishOptions(pubsub: Element): Map<string, string> | null {
  const form = formIn(pubsub.getChild('publish-options'));
  if (!form) return null;
  const values = formValues(form);
  if (values.get('FORM_TYPE') !== NS_PUBLISH_OPTIONS) throw new StanzaError('bad-request', `publish-options need the FORM_TYPE ${NS_PUBLISH_OPTIONS}`);
  return values;
}

/** The one payload of the one item, stored with its namespace on the root. */
function payloadOf(publish: Element, maxBytes: number): { id: string | undefined; payload: Element; text: string } {
  const items = publish.getChildren('item');
  if (items.length === 0) throw pubsubFailure('bad-request', 'item-required', 'Publish one item');
  if (items.length > 1) throw pubsubFailure('bad-request', 'invalid-payload', 'Publish one item at a time');
  const item = items[0]!;
  const payloads = item.getChildElements();
  if (payloads.length === 0) throw pubsubFailure('bad-request', 'payload-required', 'The item needs a payload');
  if (payloads.length > 1) throw pubsubFailure('bad-request', 'invalid-payload', 'An item carries one payload element');
  const payload = payloads[0]!.clone();
  payload.attrs.xmlns = payloads[0]!.getNS();
  if (!payload.attrs.xmlns) throw pubsubFailure('bad-request', 'invalid-payload', 'The payload needs a namespace');
  const text = payload.toString();
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw pubsubFailure('not-acceptable', 'payload-too-big', `An item's payload may take at most ${maxBytes} bytes`);
  const id = item.attrs.id;
  if (id !== undefined && (id === '' || id.length > 1024)) throw new StanzaError('bad-request', 'An item id is 1 to 1024 characters');
  return { id, payload, text };
}

/** The node to publish to: the existing one if its configuration meets the options, else a new one. */
async function targetNode(d: PepDeps, owner: string, name: string, options: Map<string, string> | null): Promise<PepNode> {
  const limits = d.limits();
  const meets = (node: PepNode): PepNode => {
    if (options && !optionsMatch(node.config, options, limits.maxItems)) throw preconditionNotMet();
    return node;
  };
  const existing = await d.repo.getNode(owner, name);
  if (existing) return meets(existing);
  let config: NodeConfig;
  try {
    config = applyOptions({}, options ?? new Map(), limits.maxItems);
  } catch {
    // 7.1.5: options the service cannot meet, on a new node as on an old one.
    throw preconditionNotMet();
  }
  const result = await d.repo.createNode(owner, name, config, limits.maxNodes);
  if (result === 'no-user') throw new StanzaError('item-not-found', 'No such account');
  if (result === 'over-limit') throw pubsubFailure('not-allowed', 'max-nodes-exceeded', `An account may have at most ${limits.maxNodes} nodes`);
  // Created by a parallel request meanwhile: its configuration must meet the options too.
  return result.created ? result.node : meets(result.node);
}

export async function publish(d: PepDeps, req: IqRequest, pubsub: Element, el: Element): Promise<Element> {
  const name = el.attrs.node;
  if (!name) throw pubsubFailure('bad-request', 'nodeid-required', 'Name the node to publish to');
  const { id: given, payload, text } = payloadOf(el, d.limits().maxPayloadBytes);
  const id = await publishItem(d, { owner: req.to.local, publisher: req.from.toString(), node: name, id: given, payload, text, options: publishOptions(pubsub) });
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node: name }, xml('item', { id })));
}

export interface Publication {
  owner: string;
  /** Full JID of the publishing resource (the bare JID when the server publishes for the owner). */
  publisher: string;
  node: string;
  id?: string;
  payload: Element;
  /** The payload serialized, within the size limit. */
  text: string;
  options: Map<string, string> | null;
}

/** Stores an item, tells those who want to hear of it and fires PEP_PUBLISHED; returns its id. */
export async function publishItem(d: PepDeps, p: Publication): Promise<string> {
  const node = await targetNode(d, p.owner, p.node, p.options);
  const id = p.id ?? randomBytes(8).toString('hex');
  await d.repo.publish(node.id, { id, payload: p.text, publisher: p.publisher }, maxItemsOf(node.config, d.limits().maxItems));
  const item = { id, payload: p.text, publisher: p.publisher, publishedAt: new Date() };
  notify(d, node, itemsEvent(node, [item])).catch((err) => d.kernel.reportError('PEP notification failed', err));
  d.kernel.fire<PepPublishedEvent>(PEP_PUBLISHED, { owner: p.owner, node: p.node, itemId: id, payload: p.payload });
  return id;
}
