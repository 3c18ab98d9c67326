// The wire format of a cluster link: each frame is a 4-byte big-endian length followed by
// that many bytes of JSON. Small and self-delimiting, so a partial read never mixes two
// messages and a peer sending garbage is caught at the first frame.

/** Messages between two nodes; see cluster-link.ts for the handshake. */
export type LinkMessage =
  | { t: 'hello'; node: string; nonce: string }
  | { t: 'welcome'; node: string; nonce: string; mac: string }
  | { t: 'proof'; mac: string }
  | { t: 'deliver'; id: number; to: string; xml: string }
  | { t: 'event'; id: number; name: string; payload: unknown }
  | { t: 'ack'; id: number; ok: boolean };

export class FrameError extends Error {}

export function encodeFrame(message: LinkMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Collects bytes and hands out whole frames; throws FrameError on a frame too large or not JSON. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): LinkMessage[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const out: LinkMessage[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes is over the limit of ${this.maxFrameBytes}`);
      if (this.buffered.length < 4 + length) break;
      const body = this.buffered.subarray(4, 4 + length).toString('utf8');
      this.buffered = this.buffered.subarray(4 + length);
      let message: unknown;
      try {
        message = JSON.parse(body);
      } catch {
        throw new FrameError('frame is not JSON');
      }
      if (typeof message !== 'object' || message === null || typeof (message as { t?: unknown }).t !== 'string') {
        throw new FrameError('frame is not a link message');
      }
      out.push(message as LinkMessage);
    }
    return out;
  }
}
