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

/** The 'rid' attribute as a number; throws BoshError when absent or malformed. */
export function requestId(body: Element): number {
  const raw = body.attrs.rid;
  const rid = raw !== undefined && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!(rid > 0 && rid <= MAX_RID)) throw new BoshError('bad-request', "missing or invalid 'rid'");
  return rid;
}

/** Non-negative integer attribute, or the fallback when absent; throws BoshError when malformed. */
export function intAttr(body: Element, name: string, fallback: number): number {
  const raw = body.attrs[name];
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new BoshError('bad-request', `invalid '${name}'`);
  return Number(raw);
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
