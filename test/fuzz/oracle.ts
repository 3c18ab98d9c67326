// The reference the parser fuzzer compares against: saxes (a strict, namespace-aware XML
// parser nobody here wrote) behind the platform's fatal UTF-8 decoder, plus the few rules by
// which an XMPP stream is intentionally stricter than XML. Those rules only look at what
// saxes reports; they never parse anything themselves:
//   - restricted XML (RFC 6120 11.1): comments, processing instructions, DTDs are refused;
//   - the root is <stream/> in the streams namespace (RFC 6120 4.8.1);
//   - no character data between stanzas other than literal whitespace;
//   - UTF-8 only, so an XML declaration naming another encoding is refused (RFC 6120 11.6);
//   - at most 64 levels of nesting in a stanza and 100 attributes on an element (our limits).
// And one rule of Namespaces in XML that saxes does not check: the prefix and the local part
// of a name are each an NCName, which starts with a name-start character (`c:4` is refused).
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { Element } from '../../server/xml/element.ts';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
const NS_XML = 'http://www.w3.org/XML/1998/namespace';
const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';
const MAX_DEPTH = 64;
const MAX_ATTRIBUTES = 100;
/** XML's NameStartChar without the colon: how the prefix and the local part of a QName start. */
const NCNAME_START = /^[A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\u{10000}-\u{effff}]/u;

/** An element reduced to what XML says it means: expanded names, attribute values, text. */
export type Canon = [ns: string, local: string, attrs: string[][], children: (string | Canon)[]];

export interface OracleVerdict {
  /** The first XML error or restricted-XML refusal, if any. */
  rejected: string | null;
  /** The refusal is one of the intended XMPP rules above, not an XML error. */
  restricted: boolean;
  /** Our parser may refuse this input for these reasons (ours' error text) though XML accepts it. */
  mayReject: RegExp[];
  /** Completed stanzas (stream) or the root element (document). */
  elements: Canon[];
  /** The root element was closed. */
  ended: boolean;
  /** Names of the elements still open, outermost first (to try completions). */
  open: string[];
  /** The input is one that saxes is known to read otherwise than XML says (see above). */
  unsure: boolean;
}

function pushText(children: (string | Canon)[], text: string): void {
  if (text === '') return;
  const last = children.length - 1;
  if (last >= 0 && typeof children[last] === 'string') children[last] = (children[last] as string) + text;
  else children.push(text);
}

class Oracle {
  readonly verdict: OracleVerdict = { rejected: null, restricted: false, mayReject: [], elements: [], ended: false, open: [], unsure: false };
  private readonly parser = new SaxesParser({ xmlns: true, position: false, defaultXMLVersion: '1.0', forceXMLVersion: true });
  /** Open elements below the level where complete elements are collected. */
  private readonly stack: Canon[] = [];
  private depth = 0;
  /** Everything written, to tell a reference from literal text between stanzas. */
  private raw = '';

  /** `stream`: the root is the stream and its children are the elements collected. */
  constructor(private readonly stream: boolean) {
    const p = this.parser;
    // saxes trims namespace names, XML does not: with a declaration like xmlns:p=' urn:p'
    // saxes sees other namespaces than XML says there are, so the verdict is not trusted.
    p.on('attribute', (a) => {
      if ((a.name === 'xmlns' || a.name.startsWith('xmlns:')) && a.value.trim() !== a.value) this.verdict.unsure = true;
    });
    p.on('error', (err) => this.reject(err.message, false));
    p.on('comment', () => this.reject('comment', true));
    p.on('processinginstruction', () => this.reject('processing instruction', true));
    p.on('doctype', () => this.reject('DOCTYPE', true));
    p.on('xmldecl', (decl) => {
      if (decl.encoding !== undefined && decl.encoding.toLowerCase() !== 'utf-8') this.reject(`encoding ${decl.encoding}`, true);
    });
    p.on('opentag', (tag) => this.open(tag as SaxesTagNS));
    p.on('closetag', () => this.close());
    p.on('text', (text) => this.text(text, false));
    p.on('cdata', (text) => this.text(text, true));
  }

  private reject(reason: string, restricted: boolean): void {
    if (this.verdict.rejected !== null) return;
    this.verdict.rejected = reason;
    this.verdict.restricted = restricted;
  }

  private open(tag: SaxesTagNS): void {
    const names = [tag.name, ...Object.keys(tag.attributes)];
    if (names.some((name) => name.split(':').some((part) => !NCNAME_START.test(part)))) this.reject('a name part is not an NCName', false);
    this.verdict.open.push(tag.name);
    const level = this.depth++;
    if (this.stream && level === 0) {
      if (tag.uri !== NS_STREAMS || tag.local !== 'stream') this.reject('the root is not a stream', true);
      if (Object.keys(tag.attributes).length > MAX_ATTRIBUTES) this.reject('too many attributes', true);
      return;
    }
    if (level - (this.stream ? 1 : 0) >= MAX_DEPTH) this.reject('nested too deep', true);
    const attrs: string[][] = [];
    for (const a of Object.values(tag.attributes)) {
      if (a.uri === NS_XMLNS) continue;
      attrs.push([a.uri, a.local, a.value]);
    }
    if (Object.keys(tag.attributes).length > MAX_ATTRIBUTES) this.reject('too many attributes', true);
    attrs.sort(compareAttrs);
    const node: Canon = [tag.uri, tag.local, attrs, []];
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent[3].push(node);
    this.stack.push(node);
  }

  private close(): void {
    this.verdict.open.pop();
    this.depth--;
    if (this.stream && this.depth === 0) {
      this.verdict.ended = true;
      return;
    }
    const node = this.stack.pop();
    if (this.stack.length === 0 && node) {
      this.verdict.elements.push(node);
      if (!this.stream) this.verdict.ended = true;
    }
  }

  private text(text: string, cdata: boolean): void {
    const top = this.stack[this.stack.length - 1];
    if (top) {
      pushText(top[3], text);
    } else if (this.stream && this.depth === 1) {
      // Between stanzas: literal whitespace is a keepalive, anything else is refused. A
      // reference that saxes resolved to whitespace looks the same as literal whitespace
      // here, so a refusal of the input is then allowed, not required.
      if (cdata || !/^[ \t\r\n]*$/.test(text)) this.reject('character data between stanzas', true);
      else if (this.raw.includes('&')) this.verdict.mayReject.push(/outside of a stanza/);
    }
  }

  write(text: string): void {
    this.raw += text;
    this.parser.write(text);
  }

  end(): void {
    this.parser.close();
  }
}

function compareAttrs(a: string[], b: string[]): number {
  return a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0;
}

/**
 * A stream prefix as bytes: whatever arrived so far, not closed, so an incomplete stream is
 * not an error. `complete`: the input ends here (a probe with a completion appended).
 */
export function oracleStream(bytes: Buffer, complete = false): OracleVerdict {
  const oracle = new Oracle(true);
  let text: string;
  try {
    // Not fatal on an incomplete sequence at the end: the rest may arrive in the next chunk.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
  } catch {
    oracle.verdict.rejected = 'invalid UTF-8';
    return oracle.verdict;
  }
  oracle.write(text);
  if (complete && oracle.verdict.rejected === null) oracle.end();
  return oracle.verdict;
}

/** A whole document as text (a WebSocket frame, a BOSH body). */
export function oracleDocument(text: string): OracleVerdict {
  const oracle = new Oracle(false);
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    oracle.verdict.rejected = 'unpaired surrogate';
    return oracle.verdict;
  }
  oracle.write(text);
  if (oracle.verdict.rejected === null) oracle.end();
  if (oracle.verdict.rejected === null && !oracle.verdict.ended) oracle.verdict.rejected = 'no root element';
  return oracle.verdict;
}

/** Our Element in the same terms, namespaces resolved from the xmlns attributes it carries. */
export function canonOf(el: Element): Canon {
  const resolve = (prefix: string): string => {
    if (prefix === 'xml') return NS_XML;
    const key = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
    for (let e: Element | null = el; e; e = e.parent) {
      const v = e.attrs[key];
      if (v !== undefined) return v;
    }
    return prefix === '' ? '' : `(undeclared ${prefix})`;
  };

  const colon = el.name.indexOf(':');
  const attrs: string[][] = [];
  for (const key in el.attrs) {
    const value = el.attrs[key];
    if (value === undefined || key === 'xmlns' || key.startsWith('xmlns:')) continue;
    const c = key.indexOf(':');
    attrs.push(c === -1 ? ['', key, value] : [resolve(key.slice(0, c)), key.slice(c + 1), value]);
  }
  attrs.sort(compareAttrs);
  const children: (string | Canon)[] = [];
  for (const child of el.children) {
    if (typeof child === 'string') pushText(children, child);
    else children.push(canonOf(child));
  }
  return [resolve(colon === -1 ? '' : el.name.slice(0, colon)), colon === -1 ? el.name : el.name.slice(colon + 1), attrs, children];
}

/** Suffixes that may complete a cut token, tried before closing the open elements. */
export const COMPLETIONS = ['', '>', '/>', '">', "'>", '"/>', "'/>", ';', ';>', ']]>', '-->', '?>', "='x'>", '="x">', ' a="x">'];

/** A completion of a stream prefix: a suffix, then end tags for the open elements. */
export function completion(suffix: string, open: readonly string[]): string {
  let s = suffix;
  for (let i = open.length - 1; i >= 0; i--) s += `</${open[i]}>`;
  return s;
}
