// The PEP service's IQs (XEP-0060 over XEP-0163): the <pubsub/> element names one action.
// Only the owner may change anything of an account's service; reading goes by access model.
import type { IqRequest } from '../../extension/module-context.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { retract, retrieve } from './items.ts';
import { create, defaultConfiguration, deleteNode, getAffiliations, getConfiguration, ownAffiliations, purgeNode, setAffiliations, setConfiguration } from './node-admin.ts';
import type { PepDeps } from './pep-deps.ts';
import { publish } from './publish.ts';
import { pubsubFailure } from './pubsub-errors.ts';

function requireOwner(req: IqRequest): void {
  if (req.from.bareString() !== req.to.bareString()) throw new StanzaError('forbidden', 'Only the account\'s owner may do this');
}

/** The action element; publish-options and configure come beside publish and create. */
function action(pubsub: Element): Element {
  const actions = pubsub.getChildElements().filter((c) => c.name !== 'publish-options' && !(c.name === 'configure' && pubsub.getChild('create')));
  if (actions.length !== 1) throw new StanzaError('bad-request', 'One pubsub action per request');
  return actions[0]!;
}

const unsupported = (feature: string): StanzaError =>
  pubsubFailure('feature-not-implemented', 'unsupported', `A PEP service subscribes contacts by presence; ${feature} is not supported`, feature);

export function pubsubSet(d: PepDeps, req: IqRequest): Promise<Element | void> {
  const el = action(req.payload);
  switch (el.name) {
    case 'publish':
      requireOwner(req);
      return publish(d, req, req.payload, el);
    case 'retract':
      requireOwner(req);
      return retract(d, req, el);
    case 'create':
      requireOwner(req);
      return create(d, req, req.payload, el);
    case 'subscribe':
    case 'unsubscribe':
      throw unsupported('subscribe');
    case 'options':
      throw unsupported('subscription-options');
    default:
      throw new StanzaError('bad-request', `Unknown pubsub action ${el.name}`);
  }
}

export function pubsubGet(d: PepDeps, req: IqRequest): Promise<Element> {
  const el = action(req.payload);
  switch (el.name) {
    case 'items':
      return retrieve(d, req, el);
    case 'affiliations':
      return ownAffiliations(d, req);
    case 'subscriptions':
      throw unsupported('retrieve-subscriptions');
    default:
      throw new StanzaError('bad-request', `Unknown pubsub action ${el.name}`);
  }
}

export function ownerGet(d: PepDeps, req: IqRequest): Promise<Element> | Element {
  requireOwner(req);
  const el = action(req.payload);
  switch (el.name) {
    case 'configure':
      return getConfiguration(d, req, el);
    case 'default':
      return defaultConfiguration();
    case 'affiliations':
      return getAffiliations(d, req, el);
    case 'subscriptions':
      throw unsupported('manage-subscriptions');
    default:
      throw new StanzaError('bad-request', `Unknown pubsub#owner action ${el.name}`);
  }
}

export function ownerSet(d: PepDeps, req: IqRequest): Promise<void> {
  requireOwner(req);
  const el = action(req.payload);
  switch (el.name) {
    case 'configure':
      return setConfiguration(d, req, el);
    case 'delete':
      return deleteNode(d, req, el);
    case 'affiliations':
      return setAffiliations(d, req, el);
    case 'purge':
      return purgeNode(d, req, el);
    case 'subscriptions':
      throw unsupported('manage-subscriptions');
    default:
      throw new StanzaError('bad-request', `Unknown pubsub#owner action ${el.name}`);
  }
}
