// Mutations of valid input: bytes flipped, inserted, deleted and duplicated, tokens that
// XML and XMPP treat specially spliced in (markup declarations, references at the edges of
// the Char production, namespace declarations that break the reserved names, invalid UTF-8,
// surrogates), truncation; and random chunkings of the result.
import type { Rng } from './rng.ts';

const NS_XML = 'http://www.w3.org/XML/1998/namespace';
const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';

/** Markup and references, valid or not, that exercise the parser's special cases. */
const TOKENS = [
  '<!--x-->', '<!-- a -- b -->', '<!DOCTYPE a>', "<!DOCTYPE a [<!ENTITY e 'x'>]>", '<!ELEMENT a ANY>', '<?pi x?>', '<?xml version="1.0"?>',
  "<?xml version='1.1'?>", "<?xml version='1.0' encoding='ISO-8859-1'?>", '<![CDATA[', ']]>', '<![CDATA[x]]>', '<!', '<?',
  '&#0;', '&#x0;', '&#9;', '&#x10FFFF;', '&#x110000;', '&#xD800;', '&#xDFFF;', '&#xFFFE;', '&#65;', '&#X41;', '&#x;', '&#;',
  '&#99999999999;', '&lt;', '&amp;', '&bogus;', '&a:b;', '&', ';', '&amp', '&#38;#38;',
  " xmlns:xml='urn:x'", ` xmlns:xml='${NS_XML}'`, ` xmlns:x='${NS_XML}'`, " xmlns:xmlns='u'", ` xmlns='${NS_XMLNS}'`, ` xmlns='${NS_XML}'`,
  ` xmlns:p='${NS_XMLNS}'`, " xmlns:p=''", " xmlns=''", " xmlns:a='urn:u' xmlns:b='urn:u' a:z='1' b:z='2'", " xmlns:p='urn:p' p:z='1'",
  ' p:z="1"', ' xml:lang="en"', ' xml:z="1"', 'p:', ':', 'xmlns:', '<xmlns:x/>', '<p:x/>', '<xml:x/>', "<c:message xmlns:c='jabber:client'/>",
  "<message xmlns='jabber:client'/>", '</stream:stream>', "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
  '<stream:features/>', ' a="1" a="2"', " a='<'", ' a=1', ' a', '=', '"', "'", '<', '>', '/>', '</', '</x>', '<a>', '\r', '\r\n', '\t',
  '\u0000', '\u0001', '\u000b', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', '\uFEFF', '\uFFFE', '\uFFFF', '\u{10FFFF}', '\u{1F600}',
];

/** Byte sequences that are not UTF-8, or are at its edges. */
const BYTES: readonly number[][] = [
  [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80], [0xbf], [0xc2], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xfe], [0xff], [0xfe, 0xff], [0xff, 0xfe], [0xef, 0xbb, 0xbf],
  [0xef, 0xbf, 0xbe], [0xef, 0xbf, 0xbf], [0xc2, 0x85], [0xe2, 0x80, 0xa8], [0xf4, 0x8f, 0xbf, 0xbf], [0x00], [0x00, 0x3c],
];

/** Characters that markup is made of: mutations often land next to one. */
const MARKUP = new Set([0x3c, 0x3e, 0x22, 0x27, 0x3d, 0x26, 0x3b, 0x2f, 0x3a, 0x20]);

function position(rng: Rng, length: number, at: (i: number) => number): number {
  if (length === 0) return 0;
  if (rng.chance(0.4)) {
    for (let tries = 0; tries < 8; tries++) {
      const i = rng.int(length);
      if (MARKUP.has(at(i))) return i + rng.int(2);
    }
  }
  return rng.int(length + 1);
}

/** 0 to 4 byte-level mutations of a UTF-8 input. */
export function mutateBytes(rng: Rng, input: Buffer, count = rng.pick([0, 1, 1, 1, 2, 2, 3, 4])): Buffer {
  let b = input;
  for (let m = 0; m < count; m++) {
    const at = position(rng, b.length, (i) => b[i]!);
    const op = rng.int(10);
    if (op === 0 && b.length > 0) {
      const c = Buffer.from(b);
      c[Math.min(at, b.length - 1)] = rng.int(256);
      b = c;
    } else if (op === 1) {
      b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.int(256)]), b.subarray(at)]);
    } else if (op === 2) {
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 8)))]);
    } else if (op === 3) {
      const len = rng.size(64);
      b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    } else if (op === 4) {
      b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(BYTES)), b.subarray(at)]);
    } else if (op === 5) {
      b = b.subarray(0, at);
    } else {
      b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(TOKENS)), b.subarray(at)]);
    }
  }
  return b;
}

/** A random UTF-16 code unit, lone surrogates and noncharacters included. */
function codeUnit(rng: Rng): string {
  return String.fromCharCode(rng.pick([
    rng.int(0x20), rng.range(0x20, 0x7e), rng.range(0x80, 0x7ff), rng.range(0xd800, 0xdbff), rng.range(0xdc00, 0xdfff),
    rng.range(0xe000, 0xfffd), 0xfffe, 0xffff, 0xfeff, rng.range(0x800, 0xd7ff),
  ]));
}

/** String-level mutations (WebSocket and BOSH documents arrive as text): code units too. */
export function mutateString(rng: Rng, input: string, count = rng.pick([0, 1, 1, 1, 2, 2, 3, 4])): string {
  let s = input;
  for (let m = 0; m < count; m++) {
    const at = position(rng, s.length, (i) => s.charCodeAt(i));
    const op = rng.int(9);
    if (op === 0 && s.length > 0) s = s.slice(0, at) + codeUnit(rng) + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + codeUnit(rng) + s.slice(at);
    else if (op === 2) s = s.slice(0, at) + s.slice(at + rng.range(1, 8));
    else if (op === 3) {
      const len = rng.size(64);
      s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len);
    } else if (op === 4) s = s.slice(0, at);
    else s = s.slice(0, at) + rng.pick(TOKENS) + s.slice(at);
  }
  return s;
}

/** Chunk lengths covering `length`: one piece, bytes one by one, or random sizes. */
export function chunking(rng: Rng, length: number): number[] {
  const style = rng.int(6);
  if (style === 0 || length === 0) return [length];
  if (style === 1 && length <= 4096) return Array.from({ length }, () => 1);
  const max = rng.pick([2, 3, 7, 16, 64, 512, 4096]);
  const sizes: number[] = [];
  for (let left = length; left > 0;) {
    const n = Math.min(left, rng.range(1, max));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

export function split<T extends Buffer | string>(input: T, sizes: readonly number[]): T[] {
  const out: T[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(input.slice(at, at + n) as T);
    at += n;
  }
  return out;
}
