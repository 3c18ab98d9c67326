// Preparation of JID parts (RFC 7622): the PRECIS profiles of RFC 8265 for the localpart
// (UsernameCaseMapped) and the resourcepart (OpaqueString), IDNA for the domainpart.
// Each function returns the canonical form, or null when the part is not allowed.
//
// Plain ASCII, the common case by far, takes a fast path: one table-driven pass over the
// characters and, only when there are capitals, a lower-casing.
// Deliberate simplifications, each rejecting rather than accepting when in doubt:
// - the Bidi Rule (RFC 5893) is not applied to localparts;
// - contextual characters (RFC 5892 CONTEXTJ/CONTEXTO: ZWJ, ZWNJ, middle dot, ...) are
//   refused, except the Arabic-Indic digits, which are allowed without their no-mixing rule;
// - Unicode data is the engine's (ICU), not the version the PRECIS tables were derived from;
// - domainparts use UTS #46 processing (node:url) for the IDNA mapping and validity checks,
//   and ASCII domainparts are limited to letters, digits, '-', '_' and '.'.
import { isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';

const MAX_PART_BYTES = 1023;
const MAX_LABEL_BYTES = 63;

/** RFC 7622 3.3.1: characters a localpart must not contain. */
const LOCAL_FORBIDDEN = /["&'/:<>@]/;
/** Halfwidth and Fullwidth Forms, which the width mapping rule maps to their decompositions. */
const WIDE = /[\uff01-\uffef]/g;
// PRECIS IdentifierClass (RFC 8264 9.1): ASCII7, LetterDigits and the PVALID exceptions,
// without the exceptions RFC 5892 disallows, Old Hangul Jamo and default-ignorables.
// Checked one code point at a time with single-character classes: one regex repeating an
// alternation whose branches overlap (ASCII letters are in both) backtracks exponentially
// on a refused last character, which froze the server on a crafted stream header.
const IDENTIFIER_EXCEPTIONS = /[\x21-\x7e\u00df\u03c2\u06fd\u06fe\u0f0b\u3007\u0660-\u0669\u06f0-\u06f9]/u;
const IDENTIFIER_EXCLUDED = /[\p{Default_Ignorable_Code_Point}\u0640\u07fa\u302e\u302f\u3031-\u3035\u303b\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]/u;
const LETTER_DIGIT = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;

function isIdentifierClass(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) {
    if (IDENTIFIER_EXCEPTIONS.test(ch)) continue;
    if (IDENTIFIER_EXCLUDED.test(ch) || !LETTER_DIGIT.test(ch)) return false;
  }
  return true;
}
// PRECIS FreeformClass (RFC 8264 9.2) refuses controls, format characters, surrogates,
// private use, unassigned code points, line and paragraph separators, default-ignorables,
// noncharacters and Old Hangul Jamo; everything else (spaces, symbols, punctuation) is valid.
const FREEFORM_DISALLOWED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]/u;
/** Non-ASCII spaces, which OpaqueString maps to U+0020. */
const WIDE_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;
/** ASCII characters that cannot be part of an internationalized domainpart either. */
const DOMAIN_FORBIDDEN_ASCII = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]/;

// The ASCII fast path: one pass with a table of what each part allows. PRECIS ASCII7
// (printable, no space) needs no mapping but lower-casing; an ASCII domainpart is LDH labels
// plus the underscore that service names use.
const LOCAL = 1, DOMAIN = 2, RESOURCE = 4, UPPER = 8;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0x20; c <= 0x7e; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CLASS[c] = RESOURCE | (c === 0x20 || '"&\'/:<>@'.includes(ch) ? 0 : LOCAL)
    | (/[A-Za-z0-9._-]/.test(ch) ? DOMAIN : 0) | (/[A-Z]/.test(ch) ? UPPER : 0);
}
const REFUSED = -1;
const NOT_ASCII = -2;

/** REFUSED if an ASCII character lacks the `allowed` class, NOT_ASCII at the first other
 *  character, otherwise UPPER if an upper-case letter was seen, else 0. */
function scanAscii(s: string, allowed: number): number {
  let upper = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return NOT_ASCII;
    const cls = ASCII_CLASS[c]!;
    if ((cls & allowed) === 0) return REFUSED;
    upper |= cls & UPPER;
  }
  return upper;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function fitsPart(s: string): boolean {
  return s.length !== 0 && (s.length * 3 <= MAX_PART_BYTES || byteLength(s) <= MAX_PART_BYTES);
}

/** PRECIS HasCompat: the code point has a compatibility decomposition (ligatures,
 *  superscripts, circled letters...), which IdentifierClass refuses. */
function hasCompatibilityForm(s: string): boolean {
  for (const ch of s) {
    if (ch.charCodeAt(0) >= 0x80 && ch.normalize('NFKD') !== ch.normalize('NFD')) return true;
  }
  return false;
}

/** UsernameCaseMapped (RFC 8265 3.3): width-mapped, lower-cased, NFC, IdentifierClass, and
 *  none of the characters RFC 7622 3.3.1 forbids in a localpart. */
export function prepareLocal(raw: string): string | null {
  const ascii = scanAscii(raw, LOCAL);
  if (ascii !== NOT_ASCII) {
    if (ascii === REFUSED || raw.length === 0 || raw.length > MAX_PART_BYTES) return null;
    return ascii === UPPER ? raw.toLowerCase() : raw;
  }
  const s = raw.replace(WIDE, (c) => c.normalize('NFKC')).toLowerCase().normalize('NFC');
  if (!isIdentifierClass(s) || hasCompatibilityForm(s) || !fitsPart(s) || LOCAL_FORBIDDEN.test(s)) return null;
  return s;
}

/**
 * Domainpart (RFC 7622 3.2): one trailing dot dropped, IPv6 literals kept in brackets, names
 * lower-cased and, when internationalized, mapped and checked by IDNA with A-labels turned
 * into U-labels, so that both spellings of a domain compare equal.
 */
export function prepareDomain(raw: string): string | null {
  let s = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (s.charCodeAt(0) === 0x5b /* [ */) {
    return s.endsWith(']') && isIPv6(s.slice(1, -1)) ? s.toLowerCase() : null;
  }
  const scan = scanAscii(s, DOMAIN);
  if (scan === REFUSED) return null;
  let ascii = scan !== NOT_ASCII;
  if (ascii) {
    if (scan === UPPER) s = s.toLowerCase();
    if (s.includes('xn--')) {
      s = domainToUnicode(s);
      ascii = false;
    }
  } else {
    // domainToUnicode parses a URL host: characters with a meaning there must not reach it.
    if (DOMAIN_FORBIDDEN_ASCII.test(s)) return null;
    s = domainToUnicode(s);
    // Mapping can turn an ideographic full stop into a trailing dot.
    if (s.endsWith('.')) s = s.slice(0, -1);
  }
  if (!fitsPart(s)) return null;
  let start = 0;
  for (;;) {
    const dot = s.indexOf('.', start);
    const end = dot === -1 ? s.length : dot;
    if (end === start || (ascii ? end - start > MAX_LABEL_BYTES : !labelFits(s.slice(start, end)))) return null;
    if (dot === -1) return s;
    start = dot + 1;
  }
}

/** The 63-octet limit of DNS applies to the ASCII (A-label) form of a label. */
function labelFits(label: string): boolean {
  if (label.length > MAX_LABEL_BYTES) return false;
  const ascii = domainToASCII(label);
  return ascii.length !== 0 && ascii.length <= MAX_LABEL_BYTES;
}

/** OpaqueString (RFC 8265 4.2): non-ASCII spaces become U+0020, NFC, FreeformClass; case
 *  and width are preserved. */
export function prepareResource(raw: string): string | null {
  const ascii = scanAscii(raw, RESOURCE);
  if (ascii !== NOT_ASCII) return ascii !== REFUSED && raw.length !== 0 && raw.length <= MAX_PART_BYTES ? raw : null;
  const s = raw.replace(WIDE_SPACE, ' ').normalize('NFC');
  if (!fitsPart(s) || FREEFORM_DISALLOWED.test(s)) return null;
  return s;
}
