// Client connections over TCP: port 5222 with STARTTLS, port 5223 with TLS from the first
// byte. Bytes in go through the stream parser; elements out are batched into one socket
// write per event-loop turn, because per-stanza writes are what bounds throughput.
// Sockets come through the client listeners' accept path (accept.ts): the connection caps,
// the PROXY protocol header behind a TCP balancer (so the client's own address is the one
// limits and logs see) and, on 5223, the TLS handshake within its deadline.
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log.ts';
import { openTag, serialize, type Attrs, type Element } from '../xml/element.ts';
import { NS_STREAMS, StreamError } from '../xml/errors.ts';
import { StreamParser } from '../xml/stream-parser.ts';
import { acceptClientSocket, logAcceptErrors, secureHandshake } from './accept.ts';
import type { ClientConnections, TransportLimits } from './client-connections.ts';
import type { ReloadableSecureContext } from '../tls/reloadable-context.ts';
import { InputShaper } from './input-shaper.ts';
import type { Transport, TransportEvents } from './transport.ts';

/** How long we wait for the peer to close after we closed our stream. */
const CLOSE_GRACE_MS = 5_000;

export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string;
  private socket: net.Socket;
  private handler: TransportEvents | null = null;
  private parser: StreamParser;
  private maxStanzaBytes = 10_240;
  private pending = '';
  private flushScheduled = false;
  private closing = false;
  private isClosed = false;
  private shaper: InputShaper | null = null;
  private tlsActive: boolean;

  constructor(
    socket: net.Socket,
    private readonly secureContext: ReloadableSecureContext | null,
    private readonly log: Logger,
    private readonly limits: TransportLimits,
    /** The client's address (named by a PROXY header, or the socket's). */
    remoteAddress: string,
    readonly admitted = true,
  ) {
    this.socket = socket;
    this.tlsActive = socket instanceof tls.TLSSocket;
    this.remoteAddress = remoteAddress;
    this.parser = this.newParser();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.attach(socket);
    // A socket that went through readProxyHeader was paused there, its first bytes put back.
    socket.resume();
  }

  get secure(): boolean {
    return this.tlsActive;
  }

  get canStartTls(): boolean {
    return !this.tlsActive && this.secureContext !== null;
  }

  setHandler(events: TransportEvents): void {
    this.handler = events;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing) return;
    this.parser.write(chunk);
    const pause = this.shaper?.take(chunk.length) ?? 0;
    if (pause > 0 && !this.closing) {
      const socket = this.socket;
      socket.pause();
      setTimeout(() => { if (!socket.destroyed) socket.resume(); }, pause).unref();
    }
  };

  shapeInput(rate: number, burst: number): void {
    this.shaper = rate > 0 ? new InputShaper(rate, burst) : null;
  }

  private readonly onError = (err: Error): void => {
    this.log.debug('socket error', { address: this.remoteAddress, error: err.message });
  };

  private readonly onClose = (): void => {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closing = true;
    this.pending = '';
    this.handler?.closed();
  };

  /** A fresh parser per stream; events from a replaced parser are ignored. */
  private newParser(): StreamParser {
    const parser: StreamParser = new StreamParser({
      streamStart: (attrs) => { if (parser === this.parser) this.handler?.streamStart(attrs); },
      element: (el) => { if (parser === this.parser) this.handler?.stanza(el); },
      streamEnd: () => { if (parser === this.parser) this.handler?.streamEnd(); },
      error: (err) => { if (parser === this.parser) this.handler?.error(err); },
    }, { maxStanzaBytes: this.maxStanzaBytes });
    return parser;
  }

  setMaxStanzaSize(bytes: number): void {
    this.maxStanzaBytes = bytes;
    this.parser.maxStanzaBytes = bytes;
  }

  restart(): void {
    this.parser = this.newParser();
  }

  openStream(attrs: Attrs): void {
    this.write("<?xml version='1.0'?>" + openTag('stream:stream', {
      xmlns: 'jabber:client', 'xmlns:stream': NS_STREAMS, ...attrs,
    }));
  }

  send(el: Element): void {
    this.write(serialize(el));
  }

  /** Over TCP a serialized stanza joins this turn's batch as it is (it inherits the stream's namespaces). */
  sendSerialized(xml: string): boolean {
    return this.write(xml);
  }

  private write(data: string): boolean {
    if (this.closing) return false;
    // What waits already: encoded in the socket, and this turn's batch (counted in characters).
    // Checked before adding, so one stanza larger than the cap still reaches a reading client.
    if (this.socket.writableLength + this.pending.length > this.limits.sendQueueMaxBytes) {
      this.overflow();
      return false;
    }
    this.pending += data;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return true;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pending === '' || this.socket.destroyed) return;
    const data = this.pending;
    this.pending = '';
    this.socket.write(data);
  };

  /** The peer does not read (or not nearly as fast as it is sent to): stop queueing and close. */
  private overflow(): void {
    this.close(this.limits.sendQueueOverflow(this, this.socket.writableLength + this.pending.length));
  }

  async startTls(): Promise<void> {
    if (!this.secureContext) throw new Error('no TLS certificate configured');
    this.flush(); // <proceed/> must leave in clear text before the handshake
    const plain = this.socket;
    plain.removeListener('data', this.onData);
    plain.removeListener('close', this.onClose);
    plain.removeListener('error', this.onError);
    this.parser = this.newParser();
    const secured = new tls.TLSSocket(plain, { isServer: true, secureContext: this.secureContext.current });
    this.socket = secured;
    this.attach(secured);
    const failure = await secureHandshake(secured, this.limits.handshakeTimeoutMs);
    if (failure) throw failure;
    this.tlsActive = true;
  }

  close(error?: StreamError): void {
    if (this.closing) return;
    if (error) this.pending += serialize(error.toElement());
    this.pending += '</stream:stream>';
    this.flush();
    this.closing = true;
    this.socket.end();
    // A peer that never closes its side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

export interface TcpListenerOptions {
  host: string;
  port: number;
  /** The node's TLS context, for STARTTLS or for the whole connection when `directTls` (5223). */
  tls: ReloadableSecureContext | null;
  directTls: boolean;
  /** Every connection starts with a PROXY protocol header (v1 or v2) from the balancer. */
  proxyProtocol: boolean;
  /** The caps and counts every client listener of the node shares. */
  connections: ClientConnections;
  log: Logger;
  onConnection(transport: TcpTransport): void;
}

/** Starts listening; resolves with the bound server once the port is open. */
export function listenTcp(opts: TcpListenerOptions): Promise<net.Server> {
  const secureContext = opts.tls;
  const acceptOptions = {
    connections: opts.connections,
    secureContext: opts.directTls ? secureContext : null,
    proxyProtocol: opts.proxyProtocol,
    carries: 'stream' as const,
    log: opts.log,
  };
  const server = net.createServer((raw) => void acceptClientSocket(raw, acceptOptions, (socket, client) => {
    opts.onConnection(new TcpTransport(socket, secureContext, opts.log, opts.connections, client.address, client.admitted));
  }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.removeListener('error', reject);
      logAcceptErrors(server, opts.log);
      resolve(server);
    });
  });
}
