// The <body/> wrapper of XEP-0124: parsing a request, building a response, and the terminal
// binding conditions that end a session.
import { escapeAttr, type Attrs, type Element } from '../../xml/element.ts';
import { NS_STREAMS, StreamError } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';

export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
export const NS_XBOSH = 'urn:xmpp:xbosh';
/** The highest BOSH version implemented; a session uses the lower of this and the client's. */
export const BOSH_VERSION = '1.11';
export const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';

/** XEP-0124 section 17.2. */
export type TerminalCondition =
  | 'bad-request' | 'host-gone' | 'host-unknown' | 'improper-addressing' | 'internal-server-error'
  | 'item-not-found' | 'other-request' | 'policy-violation' | 'remote-connection-failed'
  | 'remote-stream-error' | 'see-other-uri' | 'system-shutdown' | 'undefined-condition';

/** Clients that sent no 'ver' are legacy and understand only HTTP status codes (17.1). */
export const LEGACY_HTTP_STATUS: Partial<Record<TerminalCondition, number>> = {
  'bad-request': 400,
  'policy-violation': 403,
  'item-not-found': 404,
};

/** A request that ends its session with a terminal binding condition. */
export class BoshError extends Error {
  constructor(readonly condition: TerminalCondition, readonly detail: string) {
    super(`${condition}: ${detail}`);
    this.name = 'BoshError';
  }
}

/** Largest rid a client may use (2^53 - 1, XEP-0124 section 14.1). */
const MAX_RID = Number.MAX_SAFE_INTEGER;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of an HTTP request body, which XEP-0124 requires to be UTF-8 (a byte order mark
 * is dropped); throws BoshError rather than replacing what does not decode with U+FFFD,
 * which would let a broken byte through as a character the client never sent.
 */
export function decodeBody(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new BoshError('bad-request', 'the body is not valid UTF-8');
  }
}

/** An attribute's value for a log line: quoted, and cut short when it is long. */
const shown = (raw: string): string => JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}...` : raw);

/** Parses an HTTP request body into the <body/> element; throws BoshError. */
export function parseBody(text: string, maxBytes: number): Element {
  let body: Element;
  try {
    body = parseXml(text, maxBytes);
  } catch (err) {
    if (err instanceof StreamError && err.condition === 'policy-violation') {
      throw new BoshError('policy-violation', err.text ?? 'request too large');
    }
    throw new BoshError('bad-request', err instanceof StreamError ? err.text ?? err.condition : 'malformed XML');
  }
  if (body.name !== 'body' || body.attrs.xmlns !== NS_HTTPBIND) {
    throw new BoshError('bad-request', `the root element must be <body xmlns='${NS_HTTPBIND}'/>`);
  }
  if (body.getText().trim() !== '') throw new BoshError('bad-request', '<body/> must not contain character data');
  return body;
}

/**
 * The 'rid' attribute (or another that holds a rid, such as 'ack') as a number: an integer
 * from 1 to 2^53 - 1, the range in which every rid is exact as a number; throws BoshError
 * when absent or anything else (a fraction, a sign, an exponent, a larger number).
 */
export function requestId(body: Element, name = 'rid'): number {
  const raw = body.attrs[name];
  if (raw === undefined) throw new BoshError('bad-request', `missing '${name}'`);
  const rid = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!(rid > 0 && rid <= MAX_RID)) throw new BoshError('bad-request', `'${name}' ${shown(raw)} is not an integer from 1 to ${MAX_RID}`);
  return rid;
}

/**
 * Non-negative integer attribute, or the fallback when absent; throws BoshError when it is
 * not written in decimal digits. A value too large for any limit (any number of digits)
 * reads as 2^53 - 1, so that the caller's bound clamps it as XEP-0124 asks for 'wait',
 * 'hold' and 'pause', rather than failing the request.
 */
export function intAttr(body: Element, name: string, fallback: number): number {
  const raw = body.attrs[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new BoshError('bad-request', `'${name}' ${shown(raw)} is not a non-negative integer`);
  return raw.length > 15 ? Number.MAX_SAFE_INTEGER : Number(raw);
}

/** A media type with optional parameters (RFC 9110 section 8.3), ASCII and on one line. */
const TOKEN = "[\\w!#$%&'*+.^`|~-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}([ \\t]*;[ \\t]*${TOKEN}=(${TOKEN}|"[^"\\\\\\x00-\\x1f\\x7f]*"))*$`);

/** The 'content' attribute: the Content-Type of every response (XEP-0124 section 7.1). */
export function contentAttr(body: Element, fallback: string): string {
  const raw = body.attrs.content;
  if (raw === undefined) return fallback;
  if (raw.length > 200 || !MEDIA_TYPE.test(raw)) throw new BoshError('bad-request', `'content' ${shown(raw)} is not a media type`);
  return raw;
}

/** The lower of two "major.minor" versions, each part compared as an integer. */
export function lowerVersion(a: string, b: string): string {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length !== 2 || pa.some((n) => !Number.isInteger(n))) return b;
  return pa[0]! < pb[0]! || (pa[0] === pb[0] && pa[1]! < pb[1]!) ? a : b;
}

/**
 * A response wrapper around already serialized payloads. The stream prefix is declared
 * whenever there is content, since <stream:features/> and <stream:error/> use it (XEP-0206).
 */
export function responseBody(attrs: Attrs, payloads: string): string {
  let s = `<body xmlns='${NS_HTTPBIND}'`;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) s += ` ${k}='${escapeAttr(v)}'`;
  }
  if (payloads === '') return s + '/>';
  return s + ` xmlns:stream='${NS_STREAMS}'>` + payloads + '</body>';
}

export function terminalBody(condition?: TerminalCondition, payloads = ''): string {
  return responseBody({ type: 'terminate', condition }, payloads);
}
