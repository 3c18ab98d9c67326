// Generators of well-formed, namespace-well-formed XML for the fuzzers: text and attribute
// values full of references, CDATA and characters at the edges of the Char production,
// elements with prefixes declared here, on an ancestor or on the stream header, prefixed
// attributes, default namespaces set and undone. Mutations (mutate.ts) then break them.
import type { Rng } from './rng.ts';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';

/** Prefix -> namespace in scope, plus the default namespace under the key ''. */
export type Scope = ReadonlyMap<string, string>;

const TEXT_PIECES = [
  'hello', ' ', 'world', 'x', '\n', '\t', '\r\n', '\r', '&amp;', '&lt;', '&gt;', '&quot;', '&apos;',
  '&#65;', '&#x41;', '&#x1F600;', '&#x10FFFF;', '&#xD7FF;', '&#xE000;', '&#xFFFD;', '&#9;', '&#13;', '&#10;',
  '\u00e9', '\u4e2d\u6587', '\u{1F600}', '\u{10FFFF}', '\uFFFD', '\uD7FF', '\uE000', '\u0085', '\u2028', '\u00a0',
  '\uFEFF', 'a>b', ']', ']]', '"', "'", '<![CDATA[ <x> & ]] ]]>', '<![CDATA[]]>', '<![CDATA[\r\n]]>', '\uFF21',
];
const VALUE_PIECES = [
  'v', 'alice@localhost', 'a b', ' ', '\t', '\n', '\r\n', '&amp;', '&lt;', '&gt;', '&#x20;', '&#9;', '&#10;', '&#13;',
  '&#x1F600;', '\u00e9', '\u{1F600}', '>', ']]>', '\uFFFD', '\u2028',
];
const LOCAL_NAMES = ['x', 'item', 'query', 'body', 'a', 'b-c', 'd.e', '_f', 'g1', '\u00e9l\u00e9ment', '\u4e2d', 'n\u00b7m', '\u{10000}x', 'z'];
const ATTR_NAMES = ['a', 'b', 'id', 'type', 'jid', 'name', 'node', 'ver', 'xml:lang', 'k-1', '\u00e9'];
const PREFIXES = ['a', 'b', 'c', 'p', 'q', 'ns1', 'x\u00e9'];
const URIS = ['urn:a', 'urn:b', 'urn:a', 'jabber:client', 'jabber:iq:roster', 'http://jabber.org/protocol/disco#info', 'urn:x:\u00e9', 'u'];

export function textContent(rng: Rng, pieces = rng.size(12)): string {
  let s = '';
  for (let i = 0; i < pieces; i++) s += rng.pick(TEXT_PIECES);
  return s;
}

/** An attribute value for the given quote character, escaped as it must be. */
export function attrValue(rng: Rng, quote: '"' | "'", pieces = rng.size(6)): string {
  let s = '';
  for (let i = 0; i < pieces; i++) {
    const p = rng.pick(VALUE_PIECES);
    s += p === ']]>' ? ']]&gt;' : p;
  }
  if (rng.chance(0.2)) s += quote === '"' ? "'&quot;" : '"&apos;';
  return s;
}

function quoted(rng: Rng, value?: string): string {
  const q = rng.chance(0.5) ? '"' : "'";
  return q + (value ?? attrValue(rng, q)) + q;
}

export interface ElementOptions {
  maxDepth: number;
  /** Element names to choose from for this element (a stanza's name, say). */
  names?: readonly string[];
  /** Extra children written verbatim (a stanza template's payload). */
  inner?: string;
}

/**
 * A random element: its name unprefixed or with a prefix in scope or declared here, a few
 * attributes (prefixed ones with distinct expanded names), children and text.
 */
export function element(rng: Rng, scope: Scope, opts: ElementOptions): string {
  const own = new Map(scope);
  const decls: string[] = [];
  const declared = new Set<string>();
  const declare = (prefix: string, uri: string): void => {
    if (declared.has(prefix)) return;
    declared.add(prefix);
    own.set(prefix, uri);
    decls.push(prefix === '' ? ` xmlns=${quoted(rng, uri)}` : ` xmlns:${prefix}=${quoted(rng, uri)}`);
  };
  if (rng.chance(0.15)) declare('', rng.chance(0.2) ? '' : rng.pick(URIS));
  const local = rng.pick(opts.names ?? LOCAL_NAMES);
  let name = local;
  if (rng.chance(0.25)) {
    const inScope = [...own.keys()].filter((p) => p !== '');
    const prefix = inScope.length > 0 && rng.chance(0.5) ? rng.pick(inScope) : rng.pick(PREFIXES);
    if (!own.has(prefix) || rng.chance(0.2)) declare(prefix, rng.pick(URIS.filter((u) => u !== '')));
    name = `${prefix}:${local}`;
  }
  if (rng.chance(0.1)) declare(rng.pick(PREFIXES), rng.pick(URIS));
  const names = new Set<string>();
  const expanded = new Set<string>();
  let attrs = '';
  for (let i = rng.size(4); i > 0; i--) {
    let attr = rng.pick(ATTR_NAMES);
    const prefixes = [...own.keys()].filter((p) => p !== '');
    if (prefixes.length > 0 && rng.chance(0.3)) attr = `${rng.pick(prefixes)}:${attr.replace(/^xml:/, '')}`;
    const colon = attr.indexOf(':');
    const key = colon === -1 ? `|${attr}` : `${attr.startsWith('xml:') ? NS_XML : own.get(attr.slice(0, colon))}|${attr.slice(colon + 1)}`;
    if (names.has(attr) || expanded.has(key)) continue;
    names.add(attr);
    expanded.add(key);
    attrs += ` ${attr}=${quoted(rng)}`;
  }
  const spaceBefore = rng.chance(0.1) ? rng.pick([' ', '\n', '\t', '\r\n']) : '';
  const open = `<${name}${decls.join('')}${attrs}${spaceBefore}`;
  let content = '';
  const children = opts.maxDepth > 1 ? rng.size(4) : 0;
  for (let i = 0; i < children; i++) {
    content += rng.chance(0.4) ? textContent(rng) : element(rng, own, { maxDepth: opts.maxDepth - 1 });
  }
  if (opts.inner) content = opts.inner + content;
  if (content === '' && rng.chance(0.6)) return `${open}/>`;
  return `${open}>${content}</${name}${rng.chance(0.1) ? ' ' : ''}>`;
}

export interface StreamHeader {
  text: string;
  /** The namespaces the header declares, for the stanzas that use them. */
  scope: Scope;
  /** The name to close it with. */
  root: string;
}

/** `<?xml ...?><stream:stream ...>` with a few harmless variations. */
export function streamHeader(rng: Rng, domain: string): StreamHeader {
  const prefix = rng.chance(0.9) ? 'stream' : rng.pick(['s', 'str', '\u00e9']);
  const scope = new Map<string, string>([['', 'jabber:client'], [prefix, NS_STREAMS]]);
  let extra = '';
  if (rng.chance(0.3)) {
    scope.set('c', 'jabber:client');
    extra += " xmlns:c='jabber:client'";
  }
  if (rng.chance(0.2)) {
    scope.set('a', 'urn:a');
    extra += ' xmlns:a="urn:a"';
  }
  if (rng.chance(0.3)) extra += " xml:lang='en'";
  const decl = rng.chance(0.5) ? (rng.chance(0.5) ? "<?xml version='1.0'?>" : '<?xml version="1.0" encoding="UTF-8"?>') : '';
  const bom = rng.chance(0.05) ? '\uFEFF' : '';
  const attrs = [`xmlns='jabber:client'`, `xmlns:${prefix}='${NS_STREAMS}'`, `to='${domain}'`, `version='1.0'`];
  if (rng.chance(0.3)) attrs.reverse();
  return {
    text: `${bom}${decl}<${prefix}:stream ${attrs.join(' ')}${extra}>`,
    scope,
    root: `${prefix}:stream`,
  };
}
