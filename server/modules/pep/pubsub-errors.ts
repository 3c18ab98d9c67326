// XEP-0060's pubsub-specific error conditions, carried beside the RFC 6120 condition.
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError, type StanzaErrorCondition } from '../../xml/errors.ts';
import { NS_PUBSUB_ERRORS } from './namespaces.ts';

export function pubsubError(condition: string, attrs?: Record<string, string>): Element {
  return xml(condition, { xmlns: NS_PUBSUB_ERRORS, ...attrs });
}

/** A stanza error with a pubsub-specific condition: `unsupported` errors name the feature. */
export function pubsubFailure(condition: StanzaErrorCondition, specific: string, text?: string, feature?: string): StanzaError {
  return new StanzaError(condition, text, undefined, pubsubError(specific, feature ? { feature } : undefined));
}

export const nodeNotFound = (): StanzaError => new StanzaError('item-not-found', 'No such node');
