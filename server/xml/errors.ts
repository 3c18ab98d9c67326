// One error family carrying RFC 6120 conditions, so a failure deep in a module can be
// turned into the right wire error by whoever catches it.
import { Element, xml } from './element.ts';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** RFC 6120 section 4.9.3 */
export type StreamErrorCondition =
  | 'bad-format' | 'bad-namespace-prefix' | 'conflict' | 'connection-timeout' | 'host-gone'
  | 'host-unknown' | 'improper-addressing' | 'internal-server-error' | 'invalid-from'
  | 'invalid-namespace' | 'invalid-xml' | 'not-authorized' | 'not-well-formed'
  | 'policy-violation' | 'remote-connection-failed' | 'reset' | 'resource-constraint'
  | 'restricted-xml' | 'see-other-host' | 'system-shutdown' | 'undefined-condition'
  | 'unsupported-encoding' | 'unsupported-feature' | 'unsupported-stanza-type'
  | 'unsupported-version';

/** RFC 6120 section 8.3.3 */
export type StanzaErrorCondition =
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'gone'
  | 'internal-server-error' | 'item-not-found' | 'jid-malformed' | 'not-acceptable'
  | 'not-allowed' | 'not-authorized' | 'policy-violation' | 'recipient-unavailable'
  | 'redirect' | 'registration-required' | 'remote-server-not-found'
  | 'remote-server-timeout' | 'resource-constraint' | 'service-unavailable'
  | 'subscription-required' | 'undefined-condition' | 'unexpected-request';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Default error type per condition, from the examples of RFC 6120 section 8.3.3. */
const DEFAULT_TYPE: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify', conflict: 'cancel', 'feature-not-implemented': 'cancel',
  forbidden: 'auth', gone: 'cancel', 'internal-server-error': 'cancel',
  'item-not-found': 'cancel', 'jid-malformed': 'modify', 'not-acceptable': 'modify',
  'not-allowed': 'cancel', 'not-authorized': 'auth', 'policy-violation': 'modify',
  'recipient-unavailable': 'wait', redirect: 'modify', 'registration-required': 'auth',
  'remote-server-not-found': 'cancel', 'remote-server-timeout': 'wait',
  'resource-constraint': 'wait', 'service-unavailable': 'cancel',
  'subscription-required': 'auth', 'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

export class XmppError extends Error {
  constructor(readonly condition: string, readonly text?: string) {
    super(text ? `${condition}: ${text}` : condition);
  }
}

/** Fatal for the whole stream: sent as <stream:error/> and the stream is closed. */
export class StreamError extends XmppError {
  constructor(readonly condition: StreamErrorCondition, text?: string) {
    super(condition, text);
    this.name = 'StreamError';
  }

  toElement(): Element {
    return xml('stream:error', null,
      xml(this.condition, { xmlns: NS_STREAM_ERRORS }),
      this.text ? xml('text', { xmlns: NS_STREAM_ERRORS }, this.text) : undefined);
  }
}

/** Scoped to one stanza: answered with type="error", the stream goes on. */
export class StanzaError extends XmppError {
  readonly type: StanzaErrorType;
  /** Optional application-specific condition element (e.g. XEP-0191 <blocked/>). */
  readonly application?: Element;

  constructor(condition: StanzaErrorCondition, text?: string, type?: StanzaErrorType, application?: Element) {
    super(condition, text);
    this.name = 'StanzaError';
    this.type = type ?? DEFAULT_TYPE[condition];
    this.application = application;
  }

  declare readonly condition: StanzaErrorCondition;

  toElement(by?: string): Element {
    return xml('error', { type: this.type, by },
      xml(this.condition, { xmlns: NS_STANZAS }),
      this.text ? xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, this.text) : undefined,
      this.application);
  }
}

/**
 * The error reply to a stanza (RFC 6120 8.3.1): addresses swapped, type="error", the
 * original payload kept for IQs so the sender can correlate it.
 */
export function errorReply(stanza: Element, error: StanzaError): Element {
  const reply = new Element(stanza.name, {
    xmlns: stanza.attrs.xmlns,
    type: 'error',
    id: stanza.attrs.id,
    from: stanza.attrs.to,
    to: stanza.attrs.from,
  });
  // The payload goes back: the prefixes it uses (declared on the stanza, or on the stream
  // header and carried by the parser onto the stanza) must stay declared.
  for (const key in stanza.attrs) {
    if (key.startsWith('xmlns:')) reply.attrs[key] = stanza.attrs[key];
  }
  for (const c of stanza.children) {
    if (typeof c !== 'string' && c.name !== 'error') reply.append(c.clone());
  }
  reply.append(error.toElement());
  return reply;
}

/** Convenience for the common case. */
export function stanzaError(stanza: Element, condition: StanzaErrorCondition, text?: string): Element {
  return errorReply(stanza, new StanzaError(condition, text));
}
