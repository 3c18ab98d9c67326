// The TCP side of the XEP-0065 bytestreams proxy: a SOCKS5 listener (RFC 1928, the subset
// XEP-0065 uses) where the two parties of a transfer each connect and name the stream by its
// hash, SHA-1(sid + initiator JID + target JID) in hex, as a domain name with port 0. The two
// connections of one hash are paired; nothing flows until an authenticated initiator
// activates the pair over XMPP (index.ts), so the relay carries data only for users of this
// server. A connection that is not activated within the deadline is closed, and the number of
// connections waiting is bounded.
import net from 'node:net';
import type { Logger } from '../../log.ts';

const VERSION = 5;
const NO_AUTH = 0x00;
const NO_ACCEPTABLE_METHOD = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_DOMAIN = 0x03;
const REPLY_OK = 0x00;
const REPLY_NOT_ALLOWED = 0x02;
const REPLY_COMMAND_NOT_SUPPORTED = 0x07;
/** SHA-1 in hex: what a stream's address must be. */
const HASH = /^[0-9a-f]{40}$/;
/** Longest handshake a client may send before its CONNECT completes (greeting + request). */
const MAX_HANDSHAKE_BYTES = 2 + 255 + 5 + 255 + 2;

export interface RelayLimits {
  /** Connections waiting for their peer or for activation, at most. */
  maxPending: number;
  /** Milliseconds a connection may wait for activation. */
  activationTimeoutMs: number;
}

interface Pending {
  sockets: net.Socket[];
  timer: NodeJS.Timeout;
}

export class Socks5Relay {
  readonly #server: net.Server;
  readonly #pending = new Map<string, Pending>();
  #waiting = 0;
  /** Bytes relayed since the start, both ways. */
  relayedBytes = 0;
  activated = 0;

  constructor(private readonly limits: () => RelayLimits, private readonly log: Logger) {
    this.#server = net.createServer((socket) => this.accept(socket));
  }

  listen(port: number, host?: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as net.AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    for (const [hash] of this.#pending) this.drop(hash);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /**
   * Joins the two connections of `hash` so that each one's bytes go to the other. False if
   * the stream does not have both of its connections here (the target has not connected yet,
   * or this node is not where they connected).
   */
  activate(hash: string): boolean {
    const pending = this.#pending.get(hash);
    if (!pending || pending.sockets.length !== 2) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(hash);
    this.#waiting -= 2;
    const [a, b] = pending.sockets as [net.Socket, net.Socket];
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.on('data', (chunk: Buffer) => {
        this.relayedBytes += chunk.length;
        // The slower side holds the faster one back: nothing piles up in the relay.
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
      from.resume();
    }
    this.activated++;
    return true;
  }

  /** Whether both connections of `hash` are here, waiting for activation. */
  ready(hash: string): boolean {
    return this.#pending.get(hash)?.sockets.length === 2;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    const { maxPending, activationTimeoutMs } = this.limits();
    if (this.#waiting >= maxPending) {
      this.log.warn('bytestream proxy connection refused: too many waiting', { address: socket.remoteAddress, max: maxPending });
      socket.destroy();
      return;
    }
    let buffered = Buffer.alloc(0);
    let greeted = false;
    // Until CONNECT completes the connection counts as waiting, and has the same deadline.
    this.#waiting++;
    let counted = true;
    const uncount = (): void => {
      if (counted) this.#waiting--;
      counted = false;
    };
    const deadline = setTimeout(() => socket.destroy(), activationTimeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_HANDSHAKE_BYTES) {
        socket.destroy();
        return;
      }
      if (!greeted) {
        // VER, NMETHODS, METHODS...
        if (buffered.length < 2) return;
        const n = buffered[1]!;
        if (buffered[0] !== VERSION) {
          socket.destroy();
          return;
        }
        if (buffered.length < 2 + n) return;
        const methods = buffered.subarray(2, 2 + n);
        buffered = buffered.subarray(2 + n);
        if (!methods.includes(NO_AUTH)) {
          socket.end(Buffer.from([VERSION, NO_ACCEPTABLE_METHOD]));
          return;
        }
        socket.write(Buffer.from([VERSION, NO_AUTH]));
        greeted = true;
      }
      // VER, CMD, RSV, ATYP=3, LEN, HASH, PORT (2 bytes)
      if (buffered.length < 5) return;
      const len = buffered[4]!;
      if (buffered.length < 5 + len + 2) return;
      const request = buffered.subarray(0, 5 + len + 2);
      const host = request.subarray(5, 5 + len).toString('latin1');
      socket.off('data', onData);
      socket.pause();
      // A client sends nothing more before activation; should it, the bytes wait their turn.
      if (buffered.length > request.length) socket.unshift(buffered.subarray(request.length));
      if (request[0] !== VERSION || request[1] !== CMD_CONNECT || request[3] !== ATYP_DOMAIN) {
        socket.end(reply(REPLY_COMMAND_NOT_SUPPORTED, ''));
        return;
      }
      const hash = host.toLowerCase();
      const pending = this.#pending.get(hash);
      if (!HASH.test(hash) || (pending && pending.sockets.length >= 2)) {
        socket.end(reply(REPLY_NOT_ALLOWED, host));
        return;
      }
      clearTimeout(deadline);
      uncount();
      this.join(hash, socket);
      socket.write(reply(REPLY_OK, host));
    };
    socket.on('data', onData);
    socket.on('close', () => {
      clearTimeout(deadline);
      uncount();
    });
  }

  private join(hash: string, socket: net.Socket): void {
    let pending = this.#pending.get(hash);
    if (!pending) {
      pending = { sockets: [], timer: setTimeout(() => this.drop(hash), this.limits().activationTimeoutMs) };
      this.#pending.set(hash, pending);
    }
    pending.sockets.push(socket);
    this.#waiting++;
    socket.once('close', () => {
      const p = this.#pending.get(hash);
      if (p && p.sockets.includes(socket)) this.drop(hash);
    });
  }

  /** Ends a stream that was not activated: both its connections are closed. */
  private drop(hash: string): void {
    const pending = this.#pending.get(hash);
    if (!pending) return;
    this.#pending.delete(hash);
    clearTimeout(pending.timer);
    this.#waiting -= pending.sockets.length;
    for (const s of pending.sockets) s.destroy();
  }
}

/** VER, REP, RSV, ATYP=3, the address as the client gave it, port 0. */
function reply(code: number, host: string): Buffer {
  const name = Buffer.from(host, 'latin1');
  return Buffer.concat([Buffer.from([VERSION, code, 0x00, ATYP_DOMAIN, name.length]), name, Buffer.from([0, 0])]);
}
