// The wire format of a cluster link. Every frame is a 4-byte big-endian length, then that many
// bytes: a type byte and the body of that type. Self-delimiting, so a partial read never mixes
// two messages and a peer sending garbage is caught at the first frame.
//
//   0x01 json     the rest is UTF-8 JSON: hello, welcome, proof (the handshake) and event
//   0x02 deliver  u32 ack id, u16 byte length of the recipient's full JID, the JID (UTF-8),
//                 then the stanza's serialized UTF-8 bytes as they are, up to the frame's end
//   0x03 ack      u32 ack id, u8 1 (taken) or 0 (not)
//   0x04 deliver-each  u32 ack id, u32 byte length of the template's head, u16 recipient
//                 count, then per recipient a u16 byte length and its full JID (UTF-8), then
//                 the template (the stanza serialized without its `to`: head, then tail) up
//                 to the frame's end
//   0x05 each-ack u32 ack id, u16 recipient count, then a bit per recipient in frame order
//                 (bit i of byte i/8, low bit first): 1 taken, 0 not
//
// The stanza of a deliver frame is neither escaped nor wrapped: its bytes are copied once
// into the frame, and the receiving node hands its text to the session as it is. A
// deliver-each frame carries one stanza for many sessions of the receiving node: it writes
// each copy as head + the recipient's `to` + tail (addressedCopy), without parsing.
//
// The welcome names the link protocol the accepting node speaks (LINK_PROTOCOL; absent: 1),
// so that in a rolling upgrade a node sends a node of the previous version only frames it
// knows: deliver-each goes to protocol 2 and later, one deliver per recipient to protocol 1.

/** 1: deliver, ack, event. 2: also deliver-each and each-ack. */
export const LINK_PROTOCOL = 2;

/** Messages between two nodes; see cluster-link.ts for the handshake. */
export type LinkMessage =
  | { t: 'hello'; node: string; nonce: string }
  | { t: 'welcome'; node: string; nonce: string; mac: string; protocol?: number }
  | { t: 'proof'; mac: string }
  | { t: 'deliver'; id: number; to: string; xml: string; /** UTF-8 bytes of xml */ bytes: number }
  | { t: 'event'; id: number; name: string; payload: unknown }
  | { t: 'ack'; id: number; ok: boolean }
  | { t: 'deliver-each'; id: number; to: string[]; head: string; tail: string; /** UTF-8 bytes of head and tail */ bytes: number }
  | { t: 'each-ack'; id: number; taken: boolean[] };

type JsonMessage = Extract<LinkMessage, { t: 'hello' | 'welcome' | 'proof' | 'event' }>;

export const FRAME_JSON = 0x01;
export const FRAME_DELIVER = 0x02;
export const FRAME_ACK = 0x03;
export const FRAME_DELIVER_EACH = 0x04;
export const FRAME_EACH_ACK = 0x05;
/** Most recipients of one deliver-each frame (its u16 count). */
export const MAX_EACH_RECIPIENTS = 0xffff;
/** Bytes of a deliver-each frame before its recipients: length, type, id, head length, count. */
export const DELIVER_EACH_HEAD = 4 + 1 + 4 + 4 + 2;
/** Bytes of a deliver frame before the JID: length, type, id, JID length. */
const DELIVER_HEAD = 4 + 1 + 4 + 2;
const MAX_JID_BYTES = 0xffff;

export class FrameError extends Error {}

/** Encodes any message; deliver and ack frames take their binary forms. */
export function encodeFrame(message: LinkMessage): Buffer {
  if (message.t === 'deliver') return encodeDeliver(message.id, message.to, message.xml);
  if (message.t === 'ack') return encodeAck(message.id, message.ok);
  if (message.t === 'deliver-each') return encodeDeliverEach(message.id, message.to, message.head, message.tail);
  if (message.t === 'each-ack') return encodeEachAck(message.id, message.taken);
  return encodeJson(message);
}

export function encodeJson(message: JsonMessage): Buffer {
  const body = JSON.stringify(message);
  const length = Buffer.byteLength(body, 'utf8');
  const frame = Buffer.allocUnsafe(5 + length);
  frame.writeUInt32BE(1 + length, 0);
  frame[4] = FRAME_JSON;
  frame.write(body, 5, 'utf8');
  return frame;
}

export function encodeDeliver(id: number, to: string, xml: string): Buffer {
  const jidBytes = Buffer.byteLength(to, 'utf8');
  if (jidBytes > MAX_JID_BYTES) throw new FrameError(`a JID of ${jidBytes} bytes does not fit a deliver frame`);
  const xmlBytes = Buffer.byteLength(xml, 'utf8');
  const frame = Buffer.allocUnsafe(DELIVER_HEAD + jidBytes + xmlBytes);
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = FRAME_DELIVER;
  frame.writeUInt32BE(id >>> 0, 5);
  frame.writeUInt16BE(jidBytes, 9);
  frame.write(to, DELIVER_HEAD, 'utf8');
  frame.write(xml, DELIVER_HEAD + jidBytes, 'utf8');
  return frame;
}

export function encodeAck(id: number, ok: boolean): Buffer {
  const frame = Buffer.allocUnsafe(10);
  frame.writeUInt32BE(6, 0);
  frame[4] = FRAME_ACK;
  frame.writeUInt32BE(id >>> 0, 5);
  frame[9] = ok ? 1 : 0;
  return frame;
}

export function encodeDeliverEach(id: number, to: readonly string[], head: string, tail: string): Buffer {
  if (to.length === 0 || to.length > MAX_EACH_RECIPIENTS) throw new FrameError(`a deliver-each frame takes 1 to ${MAX_EACH_RECIPIENTS} recipients, not ${to.length}`);
  const jidBytes = to.map((jid) => Buffer.byteLength(jid, 'utf8'));
  const tooLong = jidBytes.find((n) => n > MAX_JID_BYTES);
  if (tooLong !== undefined) throw new FrameError(`a JID of ${tooLong} bytes does not fit a deliver-each frame`);
  const headBytes = Buffer.byteLength(head, 'utf8');
  const size = DELIVER_EACH_HEAD + jidBytes.reduce((sum, n) => sum + 2 + n, 0) + headBytes + Buffer.byteLength(tail, 'utf8');
  const frame = Buffer.allocUnsafe(size);
  frame.writeUInt32BE(size - 4, 0);
  frame[4] = FRAME_DELIVER_EACH;
  frame.writeUInt32BE(id >>> 0, 5);
  frame.writeUInt32BE(headBytes, 9);
  frame.writeUInt16BE(to.length, 13);
  let at = DELIVER_EACH_HEAD;
  to.forEach((jid, i) => {
    frame.writeUInt16BE(jidBytes[i]!, at);
    at += 2 + frame.write(jid, at + 2, 'utf8');
  });
  at += frame.write(head, at, 'utf8');
  frame.write(tail, at, 'utf8');
  return frame;
}

export function encodeEachAck(id: number, taken: readonly boolean[]): Buffer {
  const frame = Buffer.alloc(4 + 1 + 4 + 2 + Math.ceil(taken.length / 8));
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = FRAME_EACH_ACK;
  frame.writeUInt32BE(id >>> 0, 5);
  frame.writeUInt16BE(taken.length, 9);
  taken.forEach((ok, i) => {
    if (ok) frame[11 + (i >> 3)]! |= 1 << (i & 7);
  });
  return frame;
}

function decodeDeliverEach(buf: Buffer, start: number, end: number): LinkMessage {
  if (end - start < DELIVER_EACH_HEAD - 4) throw new FrameError('deliver-each frame too short');
  const id = buf.readUInt32BE(start + 1);
  const headBytes = buf.readUInt32BE(start + 5);
  const count = buf.readUInt16BE(start + 9);
  if (count === 0) throw new FrameError('deliver-each frame without recipients');
  const to: string[] = [];
  let at = start + 11;
  for (let i = 0; i < count; i++) {
    if (at + 2 > end) throw new FrameError('deliver-each frame shorter than its recipients');
    const n = buf.readUInt16BE(at);
    if (at + 2 + n > end) throw new FrameError('deliver-each frame shorter than its recipients');
    to.push(buf.toString('utf8', at + 2, at + 2 + n));
    at += 2 + n;
  }
  if (at + headBytes > end) throw new FrameError('deliver-each frame shorter than its template');
  return { t: 'deliver-each', id, to, head: buf.toString('utf8', at, at + headBytes), tail: buf.toString('utf8', at + headBytes, end), bytes: end - at };
}

function decodeEachAck(buf: Buffer, start: number, end: number): LinkMessage {
  if (end - start < 7) throw new FrameError('each-ack frame too short');
  const count = buf.readUInt16BE(start + 5);
  if (end - start !== 7 + Math.ceil(count / 8)) throw new FrameError('each-ack frame of the wrong length');
  const taken = Array.from({ length: count }, (_, i) => (buf[start + 7 + (i >> 3)]! & (1 << (i & 7))) !== 0);
  return { t: 'each-ack', id: buf.readUInt32BE(start + 1), taken };
}

/** The name of each frame type, as the frame counts (and the metric) show it. */
const FRAME_NAMES: Record<number, string> = {
  [FRAME_JSON]: 'json', [FRAME_DELIVER]: 'deliver', [FRAME_ACK]: 'ack', [FRAME_DELIVER_EACH]: 'deliver-each', [FRAME_EACH_ACK]: 'each-ack',
};

/** Frames written, by type: what crosses the links, for /status and /metrics. */
export class FrameCounts {
  private readonly counts: Record<string, number> = {};

  /** Counts one encoded frame (its type is its fifth byte). */
  count(frame: Buffer): void {
    const name = FRAME_NAMES[frame[4]!] ?? 'other';
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }
}

function decodeBody(buf: Buffer, start: number, end: number): LinkMessage {
  if (end <= start) throw new FrameError('empty frame');
  const type = buf[start]!;
  if (type === FRAME_DELIVER_EACH) return decodeDeliverEach(buf, start, end);
  if (type === FRAME_EACH_ACK) return decodeEachAck(buf, start, end);
  if (type === FRAME_DELIVER) {
    if (end - start < DELIVER_HEAD - 4) throw new FrameError('deliver frame too short');
    const id = buf.readUInt32BE(start + 1);
    const jidBytes = buf.readUInt16BE(start + 5);
    const jidStart = start + 7;
    if (jidStart + jidBytes > end) throw new FrameError('deliver frame shorter than its JID');
    const xmlStart = jidStart + jidBytes;
    return { t: 'deliver', id, to: buf.toString('utf8', jidStart, xmlStart), xml: buf.toString('utf8', xmlStart, end), bytes: end - xmlStart };
  }
  if (type === FRAME_ACK) {
    if (end - start !== 6) throw new FrameError('ack frame of the wrong length');
    const ok = buf[start + 5]!;
    if (ok > 1) throw new FrameError('ack frame neither 0 nor 1');
    return { t: 'ack', id: buf.readUInt32BE(start + 1), ok: ok === 1 };
  }
  if (type !== FRAME_JSON) throw new FrameError(`unknown frame type ${type}`);
  let message: unknown;
  try {
    message = JSON.parse(buf.toString('utf8', start + 1, end));
  } catch {
    throw new FrameError('frame is not JSON');
  }
  const t = typeof message === 'object' && message !== null ? (message as { t?: unknown }).t : undefined;
  if (t !== 'hello' && t !== 'welcome' && t !== 'proof' && t !== 'event') throw new FrameError('frame is not a link message');
  return message as LinkMessage;
}

/** Collects bytes and hands out whole frames; throws FrameError on a frame too large or malformed. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): LinkMessage[] {
    const buf = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const out: LinkMessage[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at);
      if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes is over the limit of ${this.maxFrameBytes}`);
      if (buf.length - at < 4 + length) break;
      out.push(decodeBody(buf, at + 4, at + 4 + length));
      at += 4 + length;
    }
    // Keep only the incomplete tail (copied, so a large chunk is not held for a few bytes).
    this.buffered = at === buf.length ? Buffer.alloc(0) : at === 0 ? buf : Buffer.from(buf.subarray(at));
    return out;
  }
}
