// Character-level rules of XML 1.0 (fifth edition) that the stream parser needs: names,
// references, the Char production, and UTF-8 lengths. Everything scans with charCodeAt over
// a range of a larger string, so nothing here allocates on the common path.
import { StreamError } from './errors.ts';

/** XML whitespace (S production); U+000D never reaches the parser, line ends are normalized. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** The Char production: what may appear in a document at all. */
export function isXmlChar(cp: number): boolean {
  return cp >= 0x20 ? cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
    : cp === 0x09 || cp === 0x0a || cp === 0x0d;
}

// ASCII part of NameStartChar / NameChar: 1 = may start a name, 2 = may only continue one.
const ASCII_NAME = new Uint8Array(128);
for (let c = 0x41; c <= 0x5a; c++) ASCII_NAME[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ASCII_NAME[c] = 1;
for (let c = 0x30; c <= 0x39; c++) ASCII_NAME[c] = 2;
ASCII_NAME[0x5f] = 1; // _
ASCII_NAME[0x3a] = 1; // :
ASCII_NAME[0x2d] = 2; // -
ASCII_NAME[0x2e] = 2; // .

function isNonAsciiNameStart(c: number): boolean {
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff)
    || (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d
    || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff)
    || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd);
}

function isNonAsciiNameChar(c: number): boolean {
  return isNonAsciiNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/** Index of the colon in the name found by the last scanName() call, or -1. */
export let nameColon = -1;

/**
 * Scans a QName (a Name with at most one colon, not at either end) starting at `i`, stopping
 * at the first ASCII character that cannot be part of a name. Returns the index after the
 * name (`end` when the name may go on past it), or -1 when there is no valid name there
 * (including a non-ASCII non-name character, which can never legally follow a name).
 */
export function scanName(s: string, i: number, end: number): number {
  const start = i;
  let colon = -1;
  while (i < end) {
    const c = s.charCodeAt(i);
    // The prefix and the local part are each an NCName: both start with a name-start
    // character (`c:4` is a Name but not a QName, and `4` would be no element name at all).
    const first = i === start || (colon !== -1 && i === colon + 1);
    if (c < 0x80) {
      const kind = ASCII_NAME[c]!;
      if (kind === 0) break;
      if (first && kind === 2) return -1;
      if (c === 0x3a) {
        if (colon !== -1 || i === start) return -1;
        colon = i;
      }
      i++;
    } else if (first ? isNonAsciiNameStart(c) : isNonAsciiNameChar(c)) {
      i++;
    } else if (c >= 0xd800 && c <= 0xdb7f && i + 1 < end) {
      // U+10000..U+EFFFF, a surrogate pair; the pair itself is checked when the chunk arrives
      i += 2;
    } else {
      return -1;
    }
  }
  if (i === start) return -1;
  nameColon = colon;
  // A name running to the end may continue in the next chunk; otherwise no trailing colon.
  return colon === i - 1 && i !== end ? -1 : i;
}

// Recently seen names, so that the same few element and attribute names are not sliced out of
// every stanza again: a fresh string used as a property key must be interned by the engine
// first, which costs more than the rest of the attribute handling.
const NAME_CACHE: string[] = new Array<string>(512).fill('');

/** s.slice(start, end) for a name, shared with earlier occurrences of the same name. */
export function internName(s: string, start: number, end: number): string {
  const length = end - start;
  if (length > 32) return s.slice(start, end);
  const slot = (length * 97 + s.charCodeAt(start) * 31 + s.charCodeAt(end - 1) * 7 + s.charCodeAt(start + (length >> 1))) & 511;
  const cached = NAME_CACHE[slot]!;
  if (cached.length === length && equalsAt(s, start, cached)) return cached;
  // Cache the engine's interned copy: a plain slice, once used as a key, becomes an
  // indirection to it, and comparing against that on every stanza is slower.
  return (NAME_CACHE[slot] = Object.keys({ [s.slice(start, end)]: 0 })[0]!);
}

/** s.startsWith(name, start) and name ends there too; a plain loop beats the builtin call
 *  for the short names it compares. */
export function equalsAt(s: string, start: number, name: string): boolean {
  const length = name.length;
  if (start + length > s.length) return false;
  for (let k = 0; k < length; k++) if (s.charCodeAt(start + k) !== name.charCodeAt(k)) return false;
  return true;
}

/** What XML cannot carry: characters outside the Char production, and lone surrogates (a
 *  pair cut by the excerpt's end). */
const NOT_XML_TEXT = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF\uD800-\uDFFF]/gu;

/** A piece of the input for an error text, short enough for a log line. The text goes back to
 *  the peer inside <stream:error/>, so what XML cannot carry (the input need not have been
 *  checked yet) becomes U+FFFD. */
export function excerpt(s: string, start: number, end: number): string {
  const text = end - start <= 40 ? s.slice(start, end) : s.slice(start, start + 40) + '...';
  return text.replace(NOT_XML_TEXT, '\uFFFD');
}

function notWellFormed(text: string): never {
  throw new StreamError('not-well-formed', text);
}

/** Resolves one reference, `s[start, end)` being what lies between '&' and ';'. */
function decodeReference(s: string, start: number, end: number): string {
  if (s.charCodeAt(start) === 0x23 /* # */) {
    let i = start + 1;
    const hex = s.charCodeAt(i) === 0x78; // only a lowercase x is allowed
    if (hex) i++;
    if (i === end) notWellFormed('empty character reference');
    let cp = 0;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      let digit: number;
      if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
      else if (hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) digit = (c | 0x20) - 0x57;
      else return notWellFormed('malformed character reference');
      cp = cp * (hex ? 16 : 10) + digit;
      if (cp > 0x10ffff) notWellFormed('character reference out of range');
    }
    if (!isXmlChar(cp)) notWellFormed(`reference to a character not allowed in XML (U+${hex4(cp)})`);
    return String.fromCodePoint(cp);
  }
  switch (s.slice(start, end)) {
    case 'lt': return '<';
    case 'gt': return '>';
    case 'amp': return '&';
    case 'quot': return '"';
    case 'apos': return "'";
  }
  if (scanName(s, start, end) === end && nameColon !== end - 1) {
    // Well-formed but undeclared: only a DTD could declare it, and DTDs are not allowed.
    throw new StreamError('restricted-xml', `undeclared entity &${excerpt(s, start, end)};`);
  }
  return notWellFormed('malformed entity reference');
}

/** Replaces the predefined entities and character references; throws StreamError. */
export function unescapeXml(s: string): string {
  let out = '';
  let last = 0;
  for (let amp = s.indexOf('&'); amp !== -1; amp = s.indexOf('&', last)) {
    const semi = s.indexOf(';', amp + 1);
    if (semi === -1) notWellFormed('unterminated entity reference');
    out += s.slice(last, amp) + decodeReference(s, amp + 1, semi);
    last = semi + 1;
  }
  return out + s.slice(last);
}

/** UTF-8 length of `s[start, end)`; a surrogate pair counts 2 + 2. */
export function utf8Length(s: string, start: number, end: number): number {
  let n = end - start;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return n;
}

export function hex4(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}
