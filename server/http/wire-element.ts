// Serializes a top-level element for a transport without a stream root (a WebSocket frame,
// a BOSH <body/>). Over TCP, stanzas inherit 'jabber:client' and the 'stream' prefix from
// <stream:stream>; here each element must carry its own namespaces (RFC 7395 3.3.3,
// XEP-0206 section 4), so they are added to a shallow copy when missing.
import { Element, serialize } from '../xml/element.ts';
import { NS_STREAMS } from '../xml/errors.ts';

export const NS_CLIENT = 'jabber:client';

function isStanza(name: string): boolean {
  return name === 'message' || name === 'presence' || name === 'iq';
}

/** `declareStreamPrefix`: false when an enclosing element (the BOSH body) already declares it. */
export function serializeStandalone(el: Element, declareStreamPrefix: boolean): string {
  if (el.attrs.xmlns === undefined && isStanza(el.name)) {
    const { xmlns: _absent, ...attrs } = el.attrs;
    return serialize(new Element(el.name, { xmlns: NS_CLIENT, ...attrs }, el.children));
  }
  if (declareStreamPrefix && el.name.startsWith('stream:') && el.attrs['xmlns:stream'] === undefined) {
    return serialize(new Element(el.name, { 'xmlns:stream': NS_STREAMS, ...el.attrs }, el.children));
  }
  return serialize(el);
}

/**
 * The text form of serializeStandalone for a stanza serialized by serialize() (another node's
 * delivery): 'jabber:client' is added to the start tag when it declares no namespace. The
 * start tag ends at the first '>', because serialize() escapes '>' in attribute values.
 */
export function withClientNamespace(xml: string): string {
  const end = xml.indexOf('>');
  if (end < 0) return xml;
  const tag = xml.slice(0, end);
  if (/\sxmlns=/.test(tag)) return xml;
  const name = /^<([^\s/>]+)/.exec(tag)?.[1];
  if (!name || !isStanza(name)) return xml;
  return `<${name} xmlns="${NS_CLIENT}"` + xml.slice(1 + name.length);
}

/**
 * A stanza received without a namespace is taken as 'jabber:client', as XEP-0206 notes many
 * BOSH clients send them; other elements keep what they declare.
 */
export function adoptClientNamespace(el: Element): Element {
  el.parent = null;
  if (el.attrs.xmlns === undefined && isStanza(el.name)) el.attrs.xmlns = NS_CLIENT;
  return el;
}
