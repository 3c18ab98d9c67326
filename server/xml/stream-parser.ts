// The XMPP stream parser: bytes in, stanzas out. XMPP uses a restricted XML (RFC 6120
// section 11): no comments, processing instructions, DTDs or entity declarations, UTF-8 only.
// This sits on the per-stanza path, so it is hand-written: each chunk is validated and
// decoded once, tokens are found with charCodeAt/indexOf, and a token cut by the end of a
// chunk is resumed where the last search stopped instead of being scanned again.
import { isUtf8 } from 'node:buffer';
import { Element, type Attrs } from './element.ts';
import { NS_STREAMS, StreamError, type StreamErrorCondition } from './errors.ts';
import { equalsAt, excerpt, hex4, internName, isSpace, nameColon, scanName, unescapeXml, utf8Length } from './xml-chars.ts';

export interface StreamParserHandler {
  /** The <stream:stream ...> opening tag (depth 0), attributes as sent. */
  streamStart(attrs: Attrs): void;
  /** Each complete depth-1 element (a stanza or nonza), or depth-0 one in framed mode. */
  element(el: Element): void;
  /** </stream:stream> */
  streamEnd(): void;
  /** The first fatal error; after it the parser ignores further input until reset(). */
  error(err: StreamError): void;
}

export interface StreamParserOptions {
  /** Bytes of one depth-1 element including its tags; exceeding it is a policy-violation. */
  maxStanzaBytes: number;
  /** framed=true: no stream root, every depth-0 element is delivered through element() (RFC 7395
   *  WebSocket frames carry <open/>, <close/> and stanzas as separate top-level elements). */
  framed?: boolean;
}

/** More attributes on one element than any XMPP payload needs. */
export const MAX_ATTRIBUTES = 100;
/** Nesting depth of a stanza, the stanza itself being 1. */
export const MAX_DEPTH = 64;

const LT = 0x3c, GT = 0x3e, SLASH = 0x2f, BANG = 0x21, QUESTION = 0x3f, EQ = 0x3d;
const DQUOTE = 0x22, SQUOTE = 0x27, AMP = 0x26, TAB = 0x09, LF = 0x0a, CR = 0x0d, BOM = 0xfeff;

const SELF_CLOSING = 1;
const PREFIXED_ATTRS = 2;

/** Bound to the prefixes xml and xmlns by definition (Namespaces in XML 1.0, section 3). */
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';
export const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';

/** String.prototype.isWellFormed (ES2024, in Node 20) is newer than the configured lib. */
interface WellFormed {
  isWellFormed(): boolean;
}

/** Token outcomes besides "consumed up to index n". */
const INCOMPLETE = -1;
const STOP = -2;

const CDATA_OPEN = '<![CDATA[';
const XML_DECL = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\4)?[ \t\r\n]*\?>$/;
// Characters outside the Char production (checked only where no per-character loop runs:
// names, tag whitespace, text and attribute values are checked as they are scanned).
const INVALID_CHAR = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
/** Names of the attributes parsed so far in the current tag (scratch space, reused). */
const ATTR_NAMES: string[] = new Array<string>(MAX_ATTRIBUTES).fill('');
const TEXT_REFS = 1;
const TEXT_GT = 2;
const TEXT_CR = 4;
/** Text this long is delivered in pieces when a chunk ends inside it, so that a large
 *  payload is not carried over and scanned again with every chunk. */
const TEXT_PIECE = 1024;
/** An unfinished token carried over at least this long waits for the character that can end
 *  it before anything is decoded and parsed again: otherwise every small chunk would copy,
 *  validate and decode the whole token anew, quadratic in its length (a 200 KB attribute value
 *  sent 8 bytes at a time cost seconds). */
const CARRY_WAIT = 2048;
// What a waiting token needs: '>' outside quotes (a start tag), '>' (an end tag), ']]>'
// (CDATA), '?>' (the XML declaration), '<' or ';' (text held back by a reference).
const WAIT_TAG = 1;
const WAIT_GT = 2;
const WAIT_CDATA = 3;
const WAIT_DECL = 4;
const WAIT_TEXT = 5;
const RSQB = 0x5d, SEMI = 0x3b;
// XML 2.11 and 3.3.3: a CRLF or lone CR is a LF, and literal whitespace in an attribute
// value is a space (whitespace from character references stays).
const LINE_END = /\r\n?/g;
const ATTR_SPACE = /\r\n?|[\t\n]/g;

function fail(condition: StreamErrorCondition, text: string): never {
  throw new StreamError(condition, text);
}

function invalidChar(c: number): never {
  return fail('not-well-formed', `character U+${hex4(c)} is not allowed in XML`);
}

export class StreamParser {
  /** Settable at any time: the limit grows after authentication. */
  maxStanzaBytes: number;
  private readonly handler: StreamParserHandler;
  private readonly framed: boolean;

  /** Bytes carried over to the next write: the unfinished token at the end of the last
   *  chunk, then an incomplete UTF-8 sequence. Idle between stanzas, it is null. */
  private rest: Buffer | null = null;
  /** Text being parsed during a write; unconsumed text starts at buf[pos]. */
  private buf = '';
  private pos = 0;
  /** UTF-8 length of buf[pos..]: equal to the char count exactly when all of it is ASCII. */
  private bytes = 0;
  /** Where to resume looking for the end of the token at pos (0: from its start), and the
   *  quote a start tag was inside when the chunk ran out. Between writes, relative to the
   *  start of the carried-over token. */
  private scan = 0;
  private quote = 0;
  /** Bytes of the current top-level element consumed so far. */
  private count = 0;
  /** Open elements of the current stanza; stack[0] is the depth-1 element. */
  private stack: Element[] = [];
  /** Attributes of the stream header, the outermost namespace scope. */
  private root: Attrs | null = null;
  private rootName = '';
  private ended = false;
  private failed = false;
  /** Nothing consumed yet: where a BOM and the XML declaration may appear. */
  private atStart = true;
  /** No bytes received yet: where a UTF-16 stream can be recognized. */
  private fresh = true;
  /** A string chunk ending in a high surrogate keeps it for the next one. */
  private heldSurrogate = '';
  /** Bumped by reset(), so a parse loop interrupted by a callback knows to stop. */
  private generation = 0;
  private inHandler = false;
  /** TEXT_REFS | TEXT_GT | TEXT_CR seen so far in text cut by a chunk boundary. */
  private textFlags = 0;
  /** SELF_CLOSING | PREFIXED_ATTRS of the start tag attributes() just parsed. */
  private tagFlags = 0;
  /** Open elements of the current stanza whose names have a prefix. */
  private openPrefixed = 0;
  /** WAIT_* while a long carried token waits for its end, and the scan state at the end of
   *  what arrived (the open quote of a start tag, the ']' or '?' just seen). */
  private wait = 0;
  private waitState = 0;
  /** Chunks received while waiting, neither decoded nor parsed yet. */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;

  constructor(handler: StreamParserHandler, options: StreamParserOptions) {
    this.handler = handler;
    this.maxStanzaBytes = options.maxStanzaBytes;
    this.framed = options.framed ?? false;
  }

  /** True while part of an element or tag is buffered (a truncated document, for parseXml). */
  get pending(): boolean {
    return this.stack.length > 0 || this.rest !== null || this.heldSurrogate !== '';
  }

  /**
   * Forgets all state; the next bytes start a new stream. Called from a callback, it also
   * drops the rest of the chunk being parsed: after <starttls/> those bytes were sent in
   * the clear and must not be trusted, and after SASL success a client waits for the server.
   */
  reset(): void {
    this.generation++;
    this.rest = null;
    this.buf = '';
    this.pos = this.bytes = this.scan = this.quote = this.count = this.openPrefixed = 0;
    this.stack = [];
    this.root = null;
    this.rootName = '';
    this.ended = this.failed = false;
    this.atStart = this.fresh = true;
    this.heldSurrogate = '';
    this.stopWaiting();
  }

  write(chunk: Buffer | string): void {
    if (this.failed) return;
    try {
      if (typeof chunk === 'string') this.writeString(chunk);
      else this.writeBytes(chunk);
    } catch (err) {
      if (this.inHandler || !(err instanceof StreamError)) {
        this.inHandler = false;
        throw err;
      }
      this.fail(err);
    }
  }

  private fail(err: StreamError): void {
    this.failed = true;
    this.rest = null;
    this.buf = '';
    this.pos = this.bytes = this.openPrefixed = 0;
    this.stack = [];
    this.stopWaiting();
    this.handler.error(err);
  }

  /**
   * Bytes are decoded together with what the last chunk left over, up to the last complete
   * UTF-8 sequence: the text is validated once and is one flat string, which is faster to
   * scan than a concatenation.
   */
  private writeBytes(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.fresh) {
      this.fresh = false;
      const b0 = chunk[0], b1 = chunk[1];
      if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe) || (b0 === 0 && b1 === LT) || (b0 === LT && b1 === 0)) {
        fail('unsupported-encoding', 'only UTF-8 is supported');
      }
    }
    if (this.heldSurrogate !== '') fail('not-well-formed', 'unpaired surrogate');
    if (this.rest === null) this.feed(chunk);
    else this.carry(chunk);
  }

  /** A chunk after an unfinished token: parsed with it, unless the token still cannot end. */
  private carry(chunk: Buffer): void {
    const rest = this.rest!;
    if (this.wait === 0) {
      this.feed(Buffer.concat([rest, chunk]));
      return;
    }
    if (!this.terminates(chunk)) {
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      this.checkCarried(rest.length + this.waitingBytes);
      return;
    }
    const parts = [rest, ...this.waiting, chunk];
    this.stopWaiting();
    this.feed(Buffer.concat(parts));
  }

  private stopWaiting(): void {
    this.wait = this.waitState = this.waitingBytes = 0;
    if (this.waiting.length !== 0) this.waiting = [];
  }

  /** Keeps the unfinished token for the next write; a long one waits for its end. */
  private keep(rest: Buffer | null): void {
    this.rest = rest;
    if (rest === null || rest.length < CARRY_WAIT) return;
    if (rest[0] !== LT) {
      this.wait = WAIT_TEXT;
      return;
    }
    const c1 = rest[1], n = rest.length;
    if (c1 === SLASH) {
      this.wait = WAIT_GT;
    } else if (c1 === QUESTION) {
      this.wait = WAIT_DECL;
      this.waitState = rest[n - 1] === QUESTION ? 1 : 0;
    } else if (c1 === BANG) {
      // Only CDATA gets this long: any other '<!' is refused at once.
      this.wait = WAIT_CDATA;
      this.waitState = rest[n - 1] !== RSQB ? 0 : rest[n - 2] === RSQB ? 2 : 1;
    } else {
      this.wait = WAIT_TAG;
      this.waitState = this.quote;
    }
  }

  /** Whether the chunk holds what ends the waiting token; otherwise records the scan state.
   *  The characters looked for are ASCII, which no multi-byte UTF-8 sequence contains. */
  private terminates(chunk: Buffer): boolean {
    let state = this.waitState;
    switch (this.wait) {
      case WAIT_GT: return chunk.indexOf(GT) !== -1;
      case WAIT_TEXT: return chunk.indexOf(LT) !== -1 || chunk.indexOf(SEMI) !== -1;
      case WAIT_TAG:
        for (let i = 0; i < chunk.length; i++) {
          const b = chunk[i]!;
          if (state !== 0) {
            if (b === state) state = 0;
          } else if (b === GT) {
            return true;
          } else if (b === DQUOTE || b === SQUOTE) {
            state = b;
          }
        }
        break;
      case WAIT_CDATA:
        for (let i = 0; i < chunk.length; i++) {
          const b = chunk[i]!;
          if (b === RSQB) state = state === 0 ? 1 : 2;
          else if (b === GT && state === 2) return true;
          else state = 0;
        }
        break;
      case WAIT_DECL:
        for (let i = 0; i < chunk.length; i++) {
          const b = chunk[i]!;
          if (b === GT && state === 1) return true;
          state = b === QUESTION ? 1 : 0;
        }
        break;
    }
    this.waitState = state;
    return false;
  }

  private feed(input: Buffer): void {
    const end = completeUtf8Length(input);
    // RFC 6120 11.6: data in another encoding than UTF-8 gets unsupported-encoding.
    if (!isUtf8(end === input.length ? input : input.subarray(0, end))) fail('unsupported-encoding', 'invalid UTF-8');
    const generation = this.generation;
    this.parseText(input.toString('utf8', 0, end), end);
    if (this.generation !== generation || this.failed) return;
    const keep = this.bytes + input.length - end;
    // A copy, so that a large socket chunk is not kept alive by a few bytes of it.
    this.keep(keep === 0 ? null : Buffer.from(input.subarray(input.length - keep)));
  }

  private writeString(chunk: string): void {
    this.fresh = false;
    let text = this.heldSurrogate + chunk;
    this.heldSurrogate = '';
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.heldSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    // Decoded bytes cannot hold a lone surrogate (they would not be UTF-8); a string can.
    if (!(text as unknown as WellFormed).isWellFormed()) fail('not-well-formed', 'unpaired surrogate');
    if (text.length === 0) return;
    if (this.rest !== null) {
      this.carry(Buffer.from(text));
      return;
    }
    const generation = this.generation;
    this.parseText(text, Buffer.byteLength(text));
    if (this.generation !== generation || this.failed) return;
    this.keep(this.bytes === 0 ? null : Buffer.from(text.slice(this.pos)));
  }

  private parseText(text: string, bytes: number): void {
    this.buf = text;
    this.pos = 0;
    this.bytes = bytes;
    this.parse();
    // Between writes nothing holds on to the chunk's text.
    this.buf = '';
  }

  /** Consumes s[start, end) and returns its UTF-8 length. */
  private take(s: string, start: number, end: number): number {
    const n = this.bytes === s.length - start ? end - start : utf8Length(s, start, end);
    this.bytes -= n;
    this.atStart = false;
    return n;
  }

  /** Adds a token of the current stanza to its size, enforcing the limit. */
  private countStanza(n: number): void {
    this.count += n;
    if (this.count > this.maxStanzaBytes) {
      fail('policy-violation', `stanza exceeds the limit of ${this.maxStanzaBytes} bytes`);
    }
  }

  private parse(): void {
    const s = this.buf;
    const len = s.length;
    const generation = this.generation;
    let pos = this.pos;
    while (pos < len) {
      const c = s.charCodeAt(pos);
      let next: number;
      if (c !== LT) {
        if (this.stack.length !== 0) {
          next = this.text(s, pos, len);
        } else if (isSpace(c)) {
          // whitespace keepalives between stanzas
          this.take(s, pos, pos + 1);
          next = pos + 1;
        } else if (c === BOM && this.atStart) {
          this.bytes -= 3;
          next = pos + 1;
        } else {
          fail('not-well-formed', this.ended ? 'data after the end of the stream' : 'text outside of a stanza');
        }
      } else if (pos + 1 === len) {
        next = INCOMPLETE;
      } else {
        const c1 = s.charCodeAt(pos + 1);
        if (c1 === SLASH) next = this.endTag(s, pos, len, generation);
        else if (c1 === BANG) next = this.cdata(s, pos, len);
        else if (c1 === QUESTION) next = this.declaration(s, pos, len);
        else next = this.startTag(s, pos, len, generation);
      }
      if (next === INCOMPLETE) break;
      if (next === STOP) return;
      pos = next;
    }
    this.pos = pos;
    if (this.scan !== 0) this.scan -= pos;
    // Whatever is left is one unfinished token: it counts against the limit before it ends,
    // so a peer cannot make the buffer grow without bound.
    if (pos < len || this.stack.length !== 0) this.checkCarried(this.bytes);
  }

  /** The unfinished part of a stanza or header, `bytes` carried over, within the limit. */
  private checkCarried(bytes: number): void {
    if (this.count + bytes > this.maxStanzaBytes) {
      fail('policy-violation', this.root === null && !this.framed
        ? `stream header exceeds the limit of ${this.maxStanzaBytes} bytes`
        : `stanza exceeds the limit of ${this.maxStanzaBytes} bytes`);
    }
  }

  /** Character data inside an element, up to the next '<'. */
  private text(s: string, pos: number, len: number): number {
    // One pass finds the '<' and checks every character, which is cheaper than indexOf plus
    // a separate validation of the whole chunk.
    let i = pos;
    let flags = 0;
    if (this.scan > pos) {
      i = this.scan;
      flags = this.textFlags;
    }
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c <= GT) {
        if (c === LT) break;
        if (c === AMP) flags |= TEXT_REFS;
        else if (c === GT) flags |= TEXT_GT;
        else if (c < 0x20) {
          if (c === CR) flags |= TEXT_CR;
          else if (c !== LF && c !== TAB) invalidChar(c);
        }
      } else if (c >= 0xfffe) {
        invalidChar(c);
      }
    }
    if (i < len) {
      this.scan = 0;
      this.addText(s, pos, i, flags);
      return i;
    }
    // The chunk ended inside the text. A long text is delivered up to what the next chunk
    // may still change: a reference without its ';', a CR before a LF, ']' before ']>'.
    let cut = len;
    if ((flags & TEXT_REFS) !== 0) {
      const amp = s.lastIndexOf('&', len - 1);
      if (s.indexOf(';', amp) === -1) cut = amp;
    }
    if (s.charCodeAt(cut - 1) === CR) cut--;
    if (s.charCodeAt(cut - 1) === 0x5d /* ] */) cut -= s.charCodeAt(cut - 2) === 0x5d ? 2 : 1;
    if (cut - pos >= TEXT_PIECE) {
      this.scan = 0;
      this.addText(s, pos, cut, flags);
      return cut;
    }
    this.scan = len;
    this.textFlags = flags;
    return INCOMPLETE;
  }

  /** Adds s[start, end) to the open element, `flags` telling what it may need. */
  private addText(s: string, start: number, end: number, flags: number): void {
    this.countStanza(this.take(s, start, end));
    let text = s.slice(start, end);
    if ((flags & TEXT_GT) !== 0 && text.indexOf(']]>') !== -1) fail('not-well-formed', "']]>' is not allowed in text");
    if ((flags & TEXT_CR) !== 0) text = text.replace(LINE_END, '\n');
    if ((flags & TEXT_REFS) !== 0) text = unescapeXml(text);
    this.appendText(text);
  }

  private appendText(text: string): void {
    if (text.length === 0) return;
    const children = this.stack[this.stack.length - 1]!.children;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === 'string') children[last] += text;
    else children.push(text);
  }

  /** `<![CDATA[...]]>` is kept as text; any other `<!` (comment, DOCTYPE, ...) is refused. */
  private cdata(s: string, pos: number, len: number): number {
    const avail = len - pos;
    if (avail < CDATA_OPEN.length ? !CDATA_OPEN.startsWith(s.slice(pos)) : !s.startsWith(CDATA_OPEN, pos)) {
      const c2 = s.charCodeAt(pos + 2);
      fail('restricted-xml', c2 === 0x2d /* - */ ? 'comments are not allowed'
        : c2 === 0x44 /* D */ ? 'DTDs are not allowed' : 'markup declarations are not allowed');
    }
    if (avail < CDATA_OPEN.length) return INCOMPLETE;
    if (this.stack.length === 0) fail('not-well-formed', 'character data outside of a stanza');
    const close = s.indexOf(']]>', this.scan > pos ? this.scan : pos + CDATA_OPEN.length);
    if (close === -1) {
      this.scan = Math.max(pos + CDATA_OPEN.length, len - 2);
      return INCOMPLETE;
    }
    this.scan = 0;
    this.countStanza(this.take(s, pos, close + 3));
    const text = s.slice(pos + CDATA_OPEN.length, close);
    const bad = INVALID_CHAR.exec(text);
    if (bad) invalidChar(bad[0].charCodeAt(0));
    this.appendText(text.indexOf('\r') === -1 ? text : text.replace(LINE_END, '\n'));
    return close + 3;
  }

  /** `<?`: only the XML declaration, and only as the very first thing of a stream. */
  private declaration(s: string, pos: number, len: number): number {
    if (!this.atStart) fail('restricted-xml', 'processing instructions are not allowed');
    if (len - pos < 6) return INCOMPLETE;
    if (!s.startsWith('<?xml', pos) || !isSpace(s.charCodeAt(pos + 5))) {
      fail('restricted-xml', 'processing instructions are not allowed');
    }
    const close = s.indexOf('?>', this.scan > pos ? this.scan : pos + 5);
    if (close === -1) {
      this.scan = len - 1;
      return INCOMPLETE;
    }
    this.scan = 0;
    const decl = XML_DECL.exec(s.slice(pos, close + 2));
    if (!decl) fail('not-well-formed', 'malformed XML declaration');
    if (decl[3] !== undefined && decl[3].toLowerCase() !== 'utf-8') {
      fail('unsupported-encoding', `encoding ${decl[3]} is not supported, only UTF-8`);
    }
    this.take(s, pos, close + 2);
    return close + 2;
  }

  private endTag(s: string, pos: number, len: number, generation: number): number {
    const gt = s.indexOf('>', this.scan > pos ? this.scan : pos + 2);
    if (gt === -1) {
      this.scan = len;
      return INCOMPLETE;
    }
    this.scan = 0;
    const n = this.take(s, pos, gt + 1);
    const depth = this.stack.length;
    if (depth === 0) {
      if (this.root === null || this.ended || !matchesEndTag(s, pos + 2, gt, this.rootName)) {
        fail('not-well-formed', `unexpected end tag ${excerpt(s, pos, gt + 1)}`);
      }
      this.ended = true;
      return this.emit(gt + 1, generation, null);
    }
    this.countStanza(n);
    const el = this.stack[depth - 1]!;
    if (!matchesEndTag(s, pos + 2, gt, el.name)) {
      fail('not-well-formed', `end tag ${excerpt(s, pos, gt + 1)} does not match <${excerpt(el.name, 0, el.name.length)}>`);
    }
    this.stack.pop();
    if (this.openPrefixed !== 0 && el.name.indexOf(':') !== -1) {
      this.openPrefixed--;
      unprefix(el);
    }
    if (depth > 1) return gt + 1;
    this.count = 0;
    return this.emit(gt + 1, generation, el);
  }

  private startTag(s: string, pos: number, len: number, generation: number): number {
    let limit = len;
    if (this.scan !== 0) {
      // The tag was cut by a chunk boundary: parse it only once its end has arrived.
      const gt = this.findTagEnd(s, pos, len);
      if (gt === -1) return INCOMPLETE;
      limit = gt + 1;
    }
    const nameEnd = scanName(s, pos + 1, limit);
    const prefixEnd = nameColon;
    const attrs: Attrs = {};
    const next = nameEnd === limit ? INCOMPLETE : nameEnd === -1
      ? fail('not-well-formed', 'invalid element name') : this.attributes(s, nameEnd, limit, attrs);
    if (next === INCOMPLETE) {
      if (limit !== len || this.findTagEnd(s, pos, len) !== -1) fail('not-well-formed', 'malformed tag');
      return INCOMPLETE;
    }
    this.scan = this.quote = 0;
    const selfClosing = (this.tagFlags & SELF_CLOSING) !== 0;
    const prefixedAttrs = (this.tagFlags & PREFIXED_ATTRS) !== 0;

    if (this.ended) fail('not-well-formed', 'data after the end of the stream');
    const n = this.take(s, pos, next);
    const depth = this.stack.length;
    const name = internName(s, pos + 1, nameEnd);
    if (depth === 0) {
      this.count = 0;
      if (!this.framed && this.root === null) {
        if (n > this.maxStanzaBytes) fail('policy-violation', `stream header exceeds the limit of ${this.maxStanzaBytes} bytes`);
        return this.streamHeader(name, prefixEnd - pos - 1, attrs, prefixedAttrs, selfClosing, next, generation);
      }
    }
    this.countStanza(n);
    if (depth === MAX_DEPTH) fail('policy-violation', `elements nested deeper than ${MAX_DEPTH} levels`);

    const el = new Element(name, attrs);
    if (depth === 0) {
      // A stanza inherits the stream's default namespace; carrying it makes it stand alone.
      const ns = this.root?.xmlns;
      if (ns !== undefined && attrs.xmlns === undefined) attrs.xmlns = ns;
    } else {
      const parent = this.stack[depth - 1]!;
      el.parent = parent;
      parent.children.push(el);
    }
    if (prefixedAttrs) this.checkAttributePrefixes(attrs);
    if (prefixEnd !== -1) {
      this.checkPrefix(name.slice(0, prefixEnd - pos - 1), attrs);
      if (selfClosing) unprefix(el);
      else this.openPrefixed++;
    }
    if (!selfClosing) {
      this.stack.push(el);
      return next;
    }
    return depth === 0 ? this.emit(next, generation, el) : next;
  }

  /**
   * Finds the '>' closing the start tag at pos, outside quoted values, resuming where the
   * last chunk ended so that a long tag arriving in small pieces is scanned once. -1 if the
   * tag has not ended yet.
   */
  private findTagEnd(s: string, pos: number, len: number): number {
    let i = this.scan > pos ? this.scan : pos + 1;
    let quote = this.quote;
    for (;;) {
      if (quote !== 0) {
        const close = s.indexOf(quote === DQUOTE ? '"' : "'", i);
        if (close === -1) break;
        quote = 0;
        i = close + 1;
      }
      if (i >= len) break;
      const c = s.charCodeAt(i);
      if (c === GT) return i;
      if (c === DQUOTE || c === SQUOTE) quote = c;
      i++;
    }
    this.scan = len;
    this.quote = quote;
    return -1;
  }

  /**
   * Parses the attributes from i to the end of the tag into attrs. Returns the index after
   * the '>' (with tagFlags set) or INCOMPLETE when the text ends first.
   */
  private attributes(s: string, i: number, len: number, attrs: Attrs): number {
    let flags = 0;
    let count = 0;
    for (;;) {
      if (i >= len) return INCOMPLETE;
      let c = s.charCodeAt(i);
      if (c === GT) {
        this.tagFlags = flags;
        return i + 1;
      }
      if (c === SLASH) {
        if (i + 1 === len) return INCOMPLETE;
        if (s.charCodeAt(i + 1) !== GT) fail('not-well-formed', 'malformed tag');
        this.tagFlags = flags | SELF_CLOSING;
        return i + 2;
      }
      if (!isSpace(c)) fail('not-well-formed', 'malformed tag');
      do i++; while (i < len && isSpace(s.charCodeAt(i)));
      if (i === len) return INCOMPLETE;
      c = s.charCodeAt(i);
      if (c === GT || c === SLASH) continue;

      const nameEnd = scanName(s, i, len);
      if (nameEnd === -1) fail('not-well-formed', 'invalid attribute name');
      if (nameEnd === len) return INCOMPLETE;
      const colon = nameColon;
      const nameStart = i;
      i = nameEnd;
      while (i < len && isSpace(s.charCodeAt(i))) i++;
      if (i === len) return INCOMPLETE;
      if (s.charCodeAt(i) !== EQ) fail('not-well-formed', `attribute ${excerpt(s, nameStart, nameEnd)} has no value`);
      do i++; while (i < len && isSpace(s.charCodeAt(i)));
      if (i === len) return INCOMPLETE;
      const quote = s.charCodeAt(i);
      if (quote !== DQUOTE && quote !== SQUOTE) fail('not-well-formed', `value of attribute ${excerpt(s, nameStart, nameEnd)} is not quoted`);
      // One pass finds the closing quote and notes what the value needs (values are short,
      // so this beats indexOf followed by checks).
      const valueStart = i + 1;
      let valueEnd = valueStart;
      let refs = false;
      let spaces = false;
      for (; valueEnd < len; valueEnd++) {
        const v = s.charCodeAt(valueEnd);
        if (v <= LT) {
          if (v === quote) break;
          if (v === LT) fail('not-well-formed', `'<' in the value of attribute ${excerpt(s, nameStart, nameEnd)}`);
          if (v === AMP) refs = true;
          else if (v === TAB || v === LF || v === CR) spaces = true;
          else if (v < 0x20) invalidChar(v);
        } else if (v >= 0xfffe) {
          invalidChar(v);
        }
      }
      if (valueEnd === len) return INCOMPLETE;

      const name = internName(s, nameStart, nameEnd);
      let value = s.slice(valueStart, valueEnd);
      if (spaces) value = value.replace(ATTR_SPACE, ' ');
      if (refs) value = unescapeXml(value);
      // Comparing with the few names seen so far is cheaper than a property lookup.
      for (let k = 0; k < count; k++) if (ATTR_NAMES[k] === name) fail('not-well-formed', `duplicate attribute ${excerpt(name, 0, name.length)}`);
      if (count === MAX_ATTRIBUTES) fail('policy-violation', `more than ${MAX_ATTRIBUTES} attributes on one element`);
      ATTR_NAMES[count++] = name;
      if (name === '__proto__') {
        Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
      } else {
        attrs[name] = value;
      }
      if (colon !== -1) {
        if (name.startsWith('xmlns:')) checkBinding(name.slice(6), value);
        else flags |= PREFIXED_ATTRS;
      } else if (name === 'xmlns' && (value === NS_XML || value === NS_XMLNS)) {
        fail('not-well-formed', `${value} cannot be the default namespace`);
      }
      i = valueEnd + 1;
    }
  }

  /**
   * A prefix must be declared on the element or an ancestor, the stream header included. A
   * declaration found only on the stream header is copied onto the stanza so that it stands
   * alone when serialized (e.g. <stream:features/> gets xmlns:stream).
   */
  private checkPrefix(prefix: string, attrs: Attrs): string {
    if (prefix === 'xml') return NS_XML;
    if (prefix === 'xmlns') fail('not-well-formed', 'the xmlns prefix only declares namespaces');
    const key = 'xmlns:' + prefix;
    const own = attrs[key];
    if (own !== undefined) return own;
    const stack = this.stack;
    for (let k = stack.length - 1; k >= 0; k--) {
      const ns = stack[k]!.attrs[key];
      if (ns !== undefined) return ns;
    }
    const declared = this.root?.[key];
    if (declared === undefined) fail('bad-namespace-prefix', `namespace prefix ${excerpt(prefix, 0, prefix.length)} is not declared`);
    (stack.length === 0 ? attrs : stack[0]!.attrs)[key] = declared;
    return declared;
  }

  /**
   * Every attribute prefix must be declared, and no two attributes may have the same
   * expanded name (Namespaces in XML 1.0 section 6.3: a:x and b:x with a and b bound to
   * one namespace are the same attribute twice).
   */
  private checkAttributePrefixes(attrs: Attrs): void {
    let seen: string[] | null = null;
    for (const key in attrs) {
      const colon = key.indexOf(':');
      if (colon === -1 || key.startsWith('xmlns:')) continue;
      const ns = this.checkPrefix(key.slice(0, colon), attrs);
      const local = key.slice(colon + 1);
      if (seen === null) seen = [];
      for (let k = 0; k < seen.length; k += 2) {
        if (seen[k] === local && seen[k + 1] === ns) {
          fail('not-well-formed', `attribute ${excerpt(key, 0, key.length)} is another with the same namespace and name`);
        }
      }
      seen.push(local, ns);
    }
  }

  private streamHeader(name: string, prefixLength: number, attrs: Attrs, prefixedAttrs: boolean,
    selfClosing: boolean, next: number, generation: number): number {
    // The header is the outermost scope: checkPrefix finds nothing but its own attributes.
    const ns = prefixLength > 0 ? this.checkPrefix(name.slice(0, prefixLength), attrs) : attrs.xmlns;
    if (ns !== NS_STREAMS || name.slice(prefixLength > 0 ? prefixLength + 1 : 0) !== 'stream') {
      // Named in the answer: a client that sent a stanza where a stream header belongs (one
      // written after its stream restart, or on a new connection) can tell from its own log.
      const got = excerpt(name, 0, name.length);
      fail('invalid-namespace', `the stream root must be <stream/> in the ${NS_STREAMS} namespace, not <${got}> in ${ns === undefined ? 'no namespace' : excerpt(ns, 0, ns.length)}`);
    }
    if (prefixedAttrs) this.checkAttributePrefixes(attrs);
    this.root = attrs;
    this.rootName = name;
    this.pos = next;
    this.inHandler = true;
    this.handler.streamStart(attrs);
    this.inHandler = false;
    if (this.generation !== generation || this.failed) return STOP;
    if (!selfClosing) return next;
    this.ended = true;
    return this.emit(next, generation, null);
  }

  /** Delivers a finished top-level element (or the stream end when el is null). */
  private emit(next: number, generation: number, el: Element | null): number {
    this.pos = next;
    this.inHandler = true;
    if (el) this.handler.element(el);
    else this.handler.streamEnd();
    this.inHandler = false;
    return this.generation !== generation || this.failed ? STOP : next;
  }
}

/** Length of the longest prefix of b that does not end inside a UTF-8 sequence (the rest
 *  waits for the next chunk; invalid bytes are left for the validation to find). */
function completeUtf8Length(b: Buffer): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const c = b[i]!;
    if (c < 0x80) return n;
    if (c >= 0xc0) return c < 0xf8 && n - i < (c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2) ? i : n;
  }
  return n;
}

/**
 * A namespace declaration xmlns:prefix='value' (Namespaces in XML 1.0 section 3, "Reserved
 * Prefixes and Namespace Names"): no empty name, xml only for the XML namespace and that
 * namespace only for xml, nothing for xmlns or its namespace.
 */
function checkBinding(prefix: string, value: string): void {
  const shown = excerpt(prefix, 0, prefix.length);
  if (value === '') fail('not-well-formed', `namespace prefix ${shown} bound to an empty name`);
  if (prefix === 'xmlns') fail('not-well-formed', 'the xmlns prefix cannot be declared');
  if (value === NS_XMLNS) fail('not-well-formed', `namespace prefix ${shown} bound to the xmlns namespace`);
  if (prefix === 'xml' ? value !== NS_XML : value === NS_XML) {
    fail('not-well-formed', prefix === 'xml' ? 'the xml prefix cannot be bound to another namespace' : `namespace prefix ${shown} bound to the XML namespace`);
  }
}

/**
 * A finished prefixed element, `<c:message xmlns:c='jabber:client'>`, becomes what an
 * unprefixed one is, `<message xmlns='jabber:client'>`: everything above the parser tells
 * elements apart by name and xmlns, and RFC 6120 lets a peer use any prefix. The prefix
 * declaration stays for the descendants and attributes that use it, and child elements that
 * took their default namespace from above get it explicitly, so the infoset is unchanged.
 * Elements of the streams namespace keep their prefix (<stream:features/> is known by that
 * name), and so do those of the XML namespace, which cannot be a default namespace.
 */
function unprefix(el: Element): void {
  const name = el.name;
  const colon = name.indexOf(':');
  if (colon === 3 && name.startsWith('xml')) return;
  const ns = el.getNS()!;
  if (ns === NS_STREAMS || ns === NS_XML) return;
  let inherited: string | undefined;
  for (let e: Element | null = el; e !== null && inherited === undefined; e = e.parent) inherited = e.attrs.xmlns;
  el.name = name.slice(colon + 1);
  el.attrs.xmlns = ns;
  if (inherited === ns) return;
  for (const c of el.children) {
    if (typeof c !== 'string' && c.attrs.xmlns === undefined) c.attrs.xmlns = inherited ?? '';
  }
}

/** `</name S?>` with the name at s[start] and '>' at gt. */
function matchesEndTag(s: string, start: number, gt: number, name: string): boolean {
  if (!equalsAt(s, start, name)) return false;
  for (let i = start + name.length; i < gt; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

/** One-shot parse of a complete document (BOSH <body/>, a WebSocket frame, stored XML);
 *  throws StreamError. maxBytes bounds the document (unbounded by default). */
export function parseXml(text: string, maxBytes = Infinity): Element {
  let root: Element | undefined;
  let error: StreamError | undefined;
  const parser = new StreamParser({
    streamStart() {},
    streamEnd() {},
    element(el) {
      if (root) error ??= new StreamError('not-well-formed', 'more than one root element');
      root = el;
    },
    error(err) {
      error ??= err;
    },
  }, { maxStanzaBytes: maxBytes, framed: true });
  parser.write(text);
  if (error) throw error;
  if (!root || parser.pending) throw new StreamError('not-well-formed', 'incomplete document');
  return root;
}
