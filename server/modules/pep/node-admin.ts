// What only the owner does to a node: create it (XEP-0060 8.1), read and change its
// configuration (8.2), get the default one (8.3), delete it (8.4, telling those who got its
// notifications), purge its items (8.5) and manage its affiliations (8.9).
import { JID } from '../../jid/jid.ts';
import type { IqRequest } from '../../extension/module-context.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { AFFILIATIONS, affiliationsOf, withAffiliations, type Affiliation } from './affiliations.ts';
import { formIn, formValues } from './data-form.ts';
import { existingNode, nodeName } from './items.ts';
import { NS_NODE_CONFIG, NS_PUBSUB, NS_PUBSUB_OWNER } from './namespaces.ts';
import { applyOptions, configForm, isOn } from './node-config.ts';
import { notify } from './notifications.ts';
import { PEP_RETRACTED, type PepDeps, type PepRetractedEvent } from './pep-deps.ts';
import { pubsubFailure } from './pubsub-errors.ts';

function submittedConfig(parent: Element | undefined): Map<string, string> | null {
  const form = formIn(parent);
  if (!form || form.attrs.type === 'cancel') return null;
  if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Submit the configuration form (type submit)');
  const values = formValues(form);
  const type = values.get('FORM_TYPE');
  if (type !== undefined && type !== NS_NODE_CONFIG) throw new StanzaError('bad-request', `The form's FORM_TYPE is ${NS_NODE_CONFIG}`);
  return values;
}

export async function create(d: PepDeps, req: IqRequest, pubsub: Element, el: Element): Promise<void> {
  const name = el.attrs.node;
  // XEP-0060 8.1.2: an instant node would have no name to find it by in PEP.
  if (!name) throw pubsubFailure('not-acceptable', 'nodeid-required', 'Name the node to create');
  const limits = d.limits();
  const config = applyOptions({}, submittedConfig(pubsub.getChild('configure')) ?? new Map(), limits.maxItems);
  const result = await d.repo.createNode(req.to.local, name, config, limits.maxNodes);
  if (result === 'no-user') throw new StanzaError('item-not-found', 'No such account');
  if (result === 'over-limit') throw pubsubFailure('not-allowed', 'max-nodes-exceeded', `An account may have at most ${limits.maxNodes} nodes`);
  if (!result.created) throw new StanzaError('conflict', 'The node exists');
}

export async function getConfiguration(d: PepDeps, req: IqRequest, el: Element): Promise<Element> {
  const node = await existingNode(d, req, nodeName(el));
  return xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, xml('configure', { node: node.node }, configForm(node.config)));
}

export function defaultConfiguration(): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, xml('default', {}, configForm({})));
}

export async function setConfiguration(d: PepDeps, req: IqRequest, el: Element): Promise<void> {
  const node = await existingNode(d, req, nodeName(el));
  const values = submittedConfig(el);
  if (!values) {
    if (!formIn(el)) throw new StanzaError('bad-request', 'A configuration form is needed');
    return;
  }
  await d.repo.setConfig(node.id, applyOptions(node.config, values, d.limits().maxItems));
}

export async function deleteNode(d: PepDeps, req: IqRequest, el: Element): Promise<void> {
  const node = await existingNode(d, req, nodeName(el));
  // Those who could hear of it are found before it is gone; they are told after.
  await d.repo.deleteNode(node.id);
  if (isOn(node.config, 'pubsub#notify_delete')) {
    notify(d, node, xml('delete', { node: node.node })).catch((err) => d.kernel.reportError('PEP notification failed', err));
  }
}

/**
 * XEP-0060 8.5: removes every item. Those who hear of retractions (pubsub#notify_retract,
 * the only option XEP-0060 has for it) are told with <purge/>; PEP_RETRACTED names the
 * items, so the conversions act as for a retraction.
 */
export async function purgeNode(d: PepDeps, req: IqRequest, el: Element): Promise<void> {
  const node = await existingNode(d, req, nodeName(el));
  const gone = await d.repo.purge(node.id);
  if (!gone.length) return;
  d.kernel.fire<PepRetractedEvent>(PEP_RETRACTED, { owner: node.owner, node: node.node, itemIds: gone });
  if (isOn(node.config, 'pubsub#notify_retract')) {
    notify(d, node, xml('purge', { node: node.node })).catch((err) => d.kernel.reportError('PEP notification failed', err));
  }
}

export async function getAffiliations(d: PepDeps, req: IqRequest, el: Element): Promise<Element> {
  const node = await existingNode(d, req, nodeName(el));
  const list = xml('affiliations', { node: node.node });
  list.c('affiliation', { jid: req.to.bareString(), affiliation: 'owner' });
  for (const [jid, affiliation] of affiliationsOf(node.config)) list.c('affiliation', { jid, affiliation });
  return xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, list);
}

export async function setAffiliations(d: PepDeps, req: IqRequest, el: Element): Promise<void> {
  const node = await existingNode(d, req, nodeName(el));
  const current = affiliationsOf(node.config);
  for (const entry of el.getChildren('affiliation')) {
    const jid = JID.tryParse(entry.attrs.jid);
    const affiliation = entry.attrs.affiliation as Affiliation;
    if (!jid || !(AFFILIATIONS as readonly string[]).includes(affiliation)) throw new StanzaError('bad-request', 'Each affiliation needs a JID and one of member, publisher, outcast, none');
    if (jid.bareString() === req.to.bareString()) throw new StanzaError('not-acceptable', 'The owner stays the owner');
    current.set(jid.bareString(), affiliation);
  }
  const kept = [...current.values()].filter((a) => a !== 'none').length;
  const most = d.limits().maxAffiliations;
  if (kept > most) throw new StanzaError('resource-constraint', `A node may hold at most ${most} affiliations`);
  await d.repo.setConfig(node.id, withAffiliations(node.config, current));
}

/** The user-facing <affiliations/> of 5.7, for one's own nodes: the owner owns them all. */
export async function ownAffiliations(d: PepDeps, req: IqRequest): Promise<Element> {
  const list = xml('affiliations');
  if (req.from.bareString() === req.to.bareString()) {
    for (const node of await d.repo.listNodes(req.to.local)) list.c('affiliation', { node: node.node, affiliation: 'owner' });
  }
  return xml('pubsub', { xmlns: NS_PUBSUB }, list);
}
