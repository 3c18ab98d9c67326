// The wire format of a cluster link. Every frame is a 4-byte big-endian length, then that many
// bytes: a type byte and the body of that type. Self-delimiting, so a partial read never mixes
// two messages and a peer sending garbage is caught at the first frame.
//
//   0x01 json     the rest is UTF-8 JSON: hello, welcome, proof (the handshake) and event
//   0x02 deliver  u32 ack id, u16 byte length of the recipient's full JID, the JID (UTF-8),
//                 then the stanza's serialized UTF-8 bytes as they are, up to the frame's end
//   0x03 ack      u32 ack id, u8 1 (taken) or 0 (not)
//
// The stanza of a deliver frame is neither escaped nor wrapped: its bytes are copied once
// into the frame, and the receiving node hands its text to the session as it is.

/** Messages between two nodes; see cluster-link.ts for the handshake. */
export type LinkMessage =
  | { t: 'hello'; node: string; nonce: string }
  | { t: 'welcome'; node: string; nonce: string; mac: string }
  | { t: 'proof'; mac: string }
  | { t: 'deliver'; id: number; to: string; xml: string; /** UTF-8 bytes of xml */ bytes: number }
  | { t: 'event'; id: number; name: string; payload: unknown }
  | { t: 'ack'; id: number; ok: boolean };

type JsonMessage = Extract<LinkMessage, { t: 'hello' | 'welcome' | 'proof' | 'event' }>;

export const FRAME_JSON = 0x01;
export const FRAME_DELIVER = 0x02;
export const FRAME_ACK = 0x03;
/** Bytes of a deliver frame before the JID: length, type, id, JID length. */
const DELIVER_HEAD = 4 + 1 + 4 + 2;
const MAX_JID_BYTES = 0xffff;

export class FrameError extends Error {}

/** Encodes any message; deliver and ack frames take their binary forms. */
export function encodeFrame(message: LinkMessage): Buffer {
  if (message.t === 'deliver') return encodeDeliver(message.id, message.to, message.xml);
  if (message.t === 'ack') return encodeAck(message.id, message.ok);
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

function decodeBody(buf: Buffer, start: number, end: number): LinkMessage {
  if (end <= start) throw new FrameError('empty frame');
  const type = buf[start]!;
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
