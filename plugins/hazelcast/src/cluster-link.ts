// Node-to-node links: a stanza for a session on another node goes one hop, straight to that
// node, not through a Hazelcast member. Each node listens on its link port and opens one
// connection to each node it sends to, so a pair of nodes that talk both ways has two.
//
// Both ends prove they hold the cluster secret (shared through the database) before anything
// else is accepted, without sending it:
//   A -> B  hello   { node: A, nonce: nA }
//   B -> A  welcome { node: B, nonce: nB, mac: HMAC(secret, "welcome", B, nA, nB) }
//   A -> B  proof   { mac: HMAC(secret, "proof", A, nA, nB) }
// A also checks that B is the node it meant to reach. Then A sends `deliver` frames (a stanza
// for a session on B), `deliver-each` frames (one stanza for several sessions on B) and
// `event` frames (an event for B's modules), and B answers each with an `ack` saying whether
// it was taken (an `each-ack` saying it per recipient for a deliver-each).
//
// Frames are not written one by one: each end queues what it has for a socket and writes it
// with one write() per event-loop turn, as the TCP transport does for clients. What waits for
// a socket (queued here and buffered by Node) is bounded by maxQueuedBytes: a peer node that
// stops reading gets its link closed, and the deliveries waiting on it fail, so the router
// falls back (offline storage, errors) as it does for a dead node.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { addressedCopy, type Logger } from 'xmppd';
import {
  DELIVER_EACH_HEAD, encodeAck, encodeDeliver, encodeDeliverEach, encodeEachAck, encodeJson, FrameError, FrameReader, LINK_PROTOCOL, MAX_EACH_RECIPIENTS,
  type FrameCounts, type LinkMessage,
} from './link-frames.ts';
import { LogThrottle } from './log-throttle.ts';

/** What a link hands to its node: stanzas for local sessions, and events another node broadcast. */
export interface LinkReceiver {
  /**
   * Hands a serialized stanza (`bytes` long in UTF-8) to a local session; false if it was not
   * taken (no such session, or the stanza is refused).
   */
  deliver(fullJid: string, xml: string, bytes: number): boolean;
  /**
   * Hands one stanza, as a template `bytes` long in UTF-8 (head and tail, see addressedCopy),
   * to several local sessions; says per recipient whether it was taken.
   */
  deliverEach(fullJids: readonly string[], head: string, tail: string, bytes: number): boolean[];
  /** Fires an event another node broadcast; false if it is refused. */
  event(name: string, payload: unknown): boolean;
}

export interface LinkOptions {
  nodeId: string;
  secret: Buffer;
  /** Largest frame accepted, in bytes (a stanza at the server's limit and its recipient's JID fit). */
  maxFrameBytes: number;
  /**
   * Most bytes that may wait to be written on one link socket (this end's queue and Node's
   * buffer) before the link is taken for stuck and closed. Default: 64 MiB plus one frame,
   * so that a burst a busy peer reads late is not taken for a stuck peer (1,000 occupants'
   * presences for each of 50 joiners at once into a room of the other node come to 15 MB),
   * while a peer that really stopped reading still costs a bounded amount of memory.
   */
  maxQueuedBytes?: number;
  /** How long a handshake or an acknowledgement may take, in milliseconds. */
  timeoutMs: () => number;
  log: Logger;
  /** Counts every frame written after the handshakes, by type. */
  counts?: FrameCounts;
}

function mac(secret: Buffer, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\0')).digest('base64');
}

function macMatches(expected: string, got: unknown): boolean {
  if (typeof got !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}

const nonce = (): string => randomBytes(18).toString('base64');

/** How long a closing link may take to hand over its last acknowledgements. */
const CLOSE_GRACE_MS = 1_000;

const queueBound = (options: LinkOptions): number => options.maxQueuedBytes ?? 64 * 1024 * 1024 + options.maxFrameBytes;

/** Frames for one socket, written together once per event-loop turn. */
class FrameWriter {
  private queue: Buffer[] = [];
  private queued = 0;
  private scheduled = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly maxQueuedBytes: number,
    /** The peer does not read: called once the bound is crossed, the frame is dropped. */
    private readonly overflow: (waiting: number) => void,
    private readonly counts?: FrameCounts,
  ) {}

  /** Queues a frame; false if the socket is gone or the bound was crossed (then closed). */
  write(frame: Buffer): boolean {
    const socket = this.socket;
    if (socket.destroyed) return false;
    // Checked before adding, so one frame larger than the bound still goes to a reading peer.
    const waiting = socket.writableLength + this.queued;
    if (waiting > this.maxQueuedBytes) {
      this.queue = [];
      this.queued = 0;
      this.overflow(waiting);
      return false;
    }
    this.queue.push(frame);
    this.queued += frame.length;
    this.counts?.count(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return true;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    const data = queue.length === 1 ? queue[0]! : Buffer.concat(queue, this.queued);
    this.queue = [];
    this.queued = 0;
    if (!this.socket.destroyed) this.socket.write(data);
  };
}

/** Accepts links from other nodes and delivers what they send to local sessions. */
export class LinkServer {
  private readonly server: net.Server;
  /** Accepted sockets, with the writer of their acknowledgements. */
  private readonly sockets = new Map<net.Socket, FrameWriter>();

  constructor(private readonly options: LinkOptions, private readonly receiver: LinkReceiver) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /**
   * Stops listening and closes every link once the acknowledgements queued on it are
   * written: a stanza delivered here and then failed at the sender for want of its
   * acknowledgement would be delivered again (or stored offline as well).
   */
  close(): Promise<void> {
    for (const [socket, writer] of this.sockets) {
      writer.flush();
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const { secret, nodeId, log } = this.options;
    socket.setNoDelay(true);
    const reader = new FrameReader(this.options.maxFrameBytes);
    const writer = new FrameWriter(socket, queueBound(this.options), (waiting) => {
      log.warn('cluster link: the peer node does not read its acknowledgements; closing the link', { peer, waiting });
      socket.destroy();
    }, this.options.counts);
    this.sockets.set(socket, writer);
    let peer: string | null = null;
    let hello: { node: string; nonce: string } | null = null;
    let ours = '';
    const refuse = (why: string): void => {
      log.warn('cluster link refused', { from: socket.remoteAddress, peer: hello?.node, reason: why });
      socket.destroy();
    };
    const timer = setTimeout(() => refuse('no handshake in time'), this.options.timeoutMs());
    socket.on('close', () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let messages: LinkMessage[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        refuse(err instanceof FrameError ? err.message : String(err));
        return;
      }
      for (const m of messages) {
        if (socket.destroyed) return;
        if (peer === null) {
          if (hello === null) {
            if (m.t !== 'hello' || typeof m.node !== 'string' || typeof m.nonce !== 'string') return refuse('expected hello');
            hello = { node: m.node, nonce: m.nonce };
            ours = nonce();
            socket.write(encodeJson({ t: 'welcome', node: nodeId, nonce: ours, mac: mac(secret, 'welcome', nodeId, hello.nonce, ours), protocol: LINK_PROTOCOL }));
          } else {
            if (m.t !== 'proof' || !macMatches(mac(secret, 'proof', hello.node, hello.nonce, ours), m.mac)) return refuse('wrong proof (another cluster secret?)');
            peer = hello.node;
            clearTimeout(timer);
            log.info('cluster link accepted', { peer });
          }
          continue;
        }
        if (m.t === 'deliver-each') {
          if (!writer.write(encodeEachAck(m.id, this.deliverEach(m, peer)))) return;
          continue;
        }
        const event = m.t === 'event' && typeof m.name === 'string' && typeof m.id === 'number';
        if (m.t !== 'deliver' && !event) return refuse(`unexpected ${m.t} frame`);
        let ok = false;
        try {
          ok = m.t === 'deliver' ? this.receiver.deliver(m.to, m.xml, m.bytes) : m.t === 'event' ? this.receiver.event(m.name, m.payload) : false;
        } catch (err) {
          log.warn('cluster link: handling a frame failed', { peer, frame: m.t, error: err instanceof Error ? err.message : String(err) });
        }
        if (!writer.write(encodeAck((m as { id: number }).id, ok))) return;
      }
    });
  }

  /** One stanza for several sessions here; a failure of the receiver takes none of them. */
  private deliverEach(m: Extract<LinkMessage, { t: 'deliver-each' }>, peer: string): boolean[] {
    try {
      const taken = this.receiver.deliverEach(m.to, m.head, m.tail, m.bytes);
      if (taken.length === m.to.length) return taken;
    } catch (err) {
      this.options.log.warn('cluster link: handling a frame failed', { peer, frame: m.t, error: err instanceof Error ? err.message : String(err) });
    }
    return m.to.map(() => false);
  }
}

/** The acknowledgement a request waits for; null when none came (timeout, closed link, not sent). */
type Answer = Extract<LinkMessage, { t: 'ack' | 'each-ack' }> | null;

interface Pending {
  settle(answer: Answer): void;
  timer: NodeJS.Timeout;
  /** The socket's writer it went out on. */
  writer: FrameWriter;
}

const acked = (answer: Answer): boolean => answer?.t === 'ack' && answer.ok;

/** One outbound link to one node; reconnects on the next send after a failure. */
class OutboundLink {
  private socket: net.Socket | null = null;
  private writer: FrameWriter | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The link protocol the peer said it speaks (0 until its welcome came). */
  private peerProtocol = 0;
  // Per stanza while the peer is down or stuck: logged once per interval, not per stanza.
  private readonly unreachable = new LogThrottle();
  private readonly unacknowledged = new LogThrottle();

  constructor(
    private readonly options: LinkOptions,
    readonly peer: string,
    readonly address: string,
  ) {}

  send(to: string, xml: string): Promise<boolean> {
    return this.request((id) => encodeDeliver(id, to, xml), to, acked);
  }

  sendEvent(name: string, payload: unknown): Promise<boolean> {
    return this.request((id) => encodeJson({ t: 'event', id, name, payload }), name, acked);
  }

  /**
   * One stanza (its template) for several sessions of the peer; resolves with the recipients
   * it did not take. One frame for them all, unless they would not fit the frame limit (or
   * its recipient count): then as few frames as fit.
   */
  async sendEach(to: readonly string[], head: string, tail: string): Promise<string[]> {
    // The peer's welcome says which frames it knows; a failure to connect shows in send().
    if (this.peerProtocol === 0) await (this.ready ??= this.connect()).catch(() => undefined);
    if (this.peerProtocol < 2) {
      // A node of the previous version (a rolling upgrade), or one that cannot be reached: a
      // frame per recipient, which every version knows.
      const taken = await Promise.all(to.map((jid) => this.send(jid, addressedCopy({ head, tail }, jid))));
      return to.filter((_, i) => !taken[i]);
    }
    const answers = await Promise.all(this.chunks(to, Buffer.byteLength(head) + Buffer.byteLength(tail)).map((part) =>
      this.request((id) => encodeDeliverEach(id, part, head, tail), `${part.length} recipients`, (answer) =>
        part.filter((_, i) => !(answer?.t === 'each-ack' && answer.taken.length === part.length && answer.taken[i])))));
    return answers.flat();
  }

  /** Recipients in groups whose frames stay within maxFrameBytes and the u16 count. */
  private chunks(to: readonly string[], templateBytes: number): string[][] {
    const chunks: string[][] = [];
    let part: string[] = [];
    let size = DELIVER_EACH_HEAD - 4 + templateBytes;
    for (const jid of to) {
      const bytes = 2 + Buffer.byteLength(jid);
      if (part.length && (part.length === MAX_EACH_RECIPIENTS || size + bytes > this.options.maxFrameBytes)) {
        chunks.push(part);
        part = [];
        size = DELIVER_EACH_HEAD - 4 + templateBytes;
      }
      part.push(jid);
      size += bytes;
    }
    if (part.length) chunks.push(part);
    return chunks;
  }

  /** Queues one frame and resolves with what `read` makes of its acknowledgement (of null on any failure). */
  private request<T>(frame: (id: number) => Buffer, what: string, read: (answer: Answer) => T): Promise<T> {
    // Once the link is up, no await: the frame joins this turn's batch at once.
    if (this.writer && this.socket && !this.socket.destroyed) return this.enqueue(this.writer, frame, what).then(read);
    return this.connectThen(frame, what).then(read);
  }

  private async connectThen(frame: (id: number) => Buffer, what: string): Promise<Answer> {
    // A socket destroyed whose close event has not come yet: its attempt is over all the same.
    if (this.socket?.destroyed) this.ready = null;
    try {
      await (this.ready ??= this.connect());
    } catch (err) {
      this.unreachable.hit((leftOut) => this.options.log.warn('cluster link: cannot reach node', {
        peer: this.peer, address: this.address, error: err instanceof Error ? err.message : String(err), ...(leftOut ? { moreSinceLastLine: leftOut } : {}),
      }));
      return null;
    }
    const socket = this.socket;
    if (!socket || socket.destroyed || !this.writer) return null;
    return this.enqueue(this.writer, frame, what);
  }

  private enqueue(writer: FrameWriter, frame: (id: number) => Buffer, what: string): Promise<Answer> {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    let data: Buffer;
    try {
      data = frame(id);
    } catch (err) {
      this.options.log.warn('cluster link: cannot encode a frame', { peer: this.peer, what, error: err instanceof Error ? err.message : String(err) });
      return Promise.resolve(null);
    }
    // The peer would close the link over a frame above its limit (the same property sets
    // both): this delivery alone fails, the others on the link go on.
    if (data.length - 4 > this.options.maxFrameBytes) {
      this.options.log.warn('cluster link: a frame over the limit is not sent', { peer: this.peer, what, bytes: data.length - 4, max: this.options.maxFrameBytes });
      return Promise.resolve(null);
    }
    return new Promise<Answer>((settle) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.unacknowledged.hit((leftOut) => this.options.log.warn('cluster link: no acknowledgement in time', { peer: this.peer, what, ...(leftOut ? { moreSinceLastLine: leftOut } : {}) }));
        settle(null);
        this.settled();
      }, this.options.timeoutMs());
      this.pending.set(id, { settle, timer, writer });
      // Over the bound the writer closes the socket, whose close handler fails every pending
      // delivery, this one included.
      writer.write(data);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  /**
   * Closes the link once nothing sent on it waits for an acknowledgement (each waits up to
   * its timeout). For a node taken for gone that may only be frozen: what it was sent before
   * is in its socket buffer and will be delivered when it resumes, so failing it now (and
   * storing it offline) would deliver it twice.
   */
  closeWhenIdle(): void {
    if (this.pending.size === 0) {
      this.close();
      return;
    }
    this.idleClose = true;
  }

  private idleClose = false;

  private settled(): void {
    if (this.idleClose && this.pending.size === 0) this.close();
  }

  private connect(): Promise<void> {
    const { secret, nodeId } = this.options;
    const [host, portText] = splitAddress(this.address);
    return new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host, port: Number(portText) });
      this.socket = socket;
      const writer = new FrameWriter(socket, queueBound(this.options), (waiting) => {
        this.options.log.warn('cluster link: the peer node does not read; closing the link, the deliveries waiting on it fall back', { peer: this.peer, waiting, pending: this.pending.size });
        socket.destroy();
      }, this.options.counts);
      socket.setNoDelay(true);
      const reader = new FrameReader(this.options.maxFrameBytes);
      const ours = nonce();
      let up = false;
      const fail = (why: string): void => {
        socket.destroy();
        if (!up) reject(new Error(why));
      };
      const timer = setTimeout(() => fail('handshake timed out'), this.options.timeoutMs());
      socket.on('connect', () => socket.write(encodeJson({ t: 'hello', node: nodeId, nonce: ours })));
      socket.on('error', (err) => fail(err.message));
      // The peer closed the link, having written its last acknowledgements (read by now).
      socket.on('end', () => socket.destroy());
      socket.on('close', () => {
        clearTimeout(timer);
        if (!up) reject(new Error('connection closed during the handshake'));
        // Whatever was in flight is unknown: the caller falls back (offline storage, errors).
        // Only this socket's: an old socket closing late must not fail a newer one's.
        for (const [id, p] of this.pending) {
          if (p.writer !== writer) continue;
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.settle(null);
        }
        this.settled();
        if (this.socket === socket) {
          this.socket = null;
          this.writer = null;
          this.ready = null;
        }
      });
      socket.on('data', (chunk: Buffer) => {
        let messages: LinkMessage[];
        try {
          messages = reader.push(chunk);
        } catch (err) {
          fail(err instanceof FrameError ? err.message : String(err));
          return;
        }
        for (const m of messages) {
          if (!up) {
            if (m.t !== 'welcome' || typeof m.nonce !== 'string') return fail('expected welcome');
            if (m.node !== this.peer) return fail(`reached node ${String(m.node)}, not ${this.peer}`);
            if (!macMatches(mac(secret, 'welcome', this.peer, ours, m.nonce), m.mac)) return fail('wrong welcome (another cluster secret?)');
            socket.write(encodeJson({ t: 'proof', mac: mac(secret, 'proof', nodeId, ours, m.nonce) }));
            this.peerProtocol = typeof m.protocol === 'number' ? m.protocol : 1;
            up = true;
            this.writer = writer;
            clearTimeout(timer);
            resolve();
            continue;
          }
          if (m.t !== 'ack' && m.t !== 'each-ack') return fail(`unexpected ${m.t} frame`);
          const p = this.pending.get(m.id);
          if (!p) continue; // answered after its timeout
          this.pending.delete(m.id);
          clearTimeout(p.timer);
          p.settle(m);
          this.settled();
        }
      });
    });
  }
}

export function splitAddress(address: string): [string, string] {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  return [host, address.slice(colon + 1)];
}

/** The outbound links of this node, one per peer, replaced when a peer's address changes. */
export class LinkPool {
  private readonly links = new Map<string, OutboundLink>();

  constructor(private readonly options: LinkOptions) {}

  send(peer: string, address: string, to: string, xml: string): Promise<boolean> {
    return this.linkTo(peer, address).send(to, xml);
  }

  sendEvent(peer: string, address: string, name: string, payload: unknown): Promise<boolean> {
    return this.linkTo(peer, address).sendEvent(name, payload);
  }

  /** One stanza's template for several sessions of `peer`; resolves with the recipients not taken. */
  sendEach(peer: string, address: string, to: readonly string[], head: string, tail: string): Promise<string[]> {
    return this.linkTo(peer, address).sendEach(to, head, tail);
  }

  /** Frames written on this node's links (both directions' sockets), by type. */
  framesSent(): Record<string, number> {
    return this.options.counts?.snapshot() ?? {};
  }

  private linkTo(peer: string, address: string): OutboundLink {
    let link = this.links.get(peer);
    if (link && link.address !== address) {
      link.close();
      link = undefined;
    }
    if (!link) this.links.set(peer, (link = new OutboundLink(this.options, peer, address)));
    return link;
  }

  /**
   * Drops the link to a node that left. `drain`: the node may be frozen rather than gone, so
   * the deliveries waiting on the link keep waiting for their acknowledgements.
   */
  forget(peer: string, drain = false): void {
    const link = this.links.get(peer);
    if (drain) link?.closeWhenIdle();
    else link?.close();
    this.links.delete(peer);
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  /** Closes every link once what was sent on it is acknowledged (or its wait ran out). */
  drain(): void {
    for (const link of this.links.values()) link.closeWhenIdle();
    this.links.clear();
  }
}
