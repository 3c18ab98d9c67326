// Client connections over TCP: port 5222 with STARTTLS, port 5223 with TLS from the first
// byte. Bytes in go through the stream parser; elements out are batched into one socket
// write per event-loop turn, because per-stanza writes are what bounds throughput.
// Behind a TCP balancer, a listener may read the PROXY protocol header first (before TLS
// on 5223), so the client's own address is the one limits and logs see.
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log.ts';
import { openTag, serialize, type Attrs, type Element } from '../xml/element.ts';
import { NS_STREAMS, StreamError } from '../xml/errors.ts';
import { StreamParser } from '../xml/stream-parser.ts';
import { readProxyHeader } from './proxy-protocol.ts';
import type { Transport, TransportEvents } from './transport.ts';

/** How long we wait for the peer to close after we closed our stream. */
const CLOSE_GRACE_MS = 5_000;
/** How long a balancer has to send the PROXY header (the specification asks for 3 s at least). */
const PROXY_HEADER_TIMEOUT_MS = 5_000;
/** Direct TLS after a PROXY header: the handshake limit tls.Server applies by default. */
const TLS_HANDSHAKE_TIMEOUT_MS = 120_000;

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
  private tlsActive: boolean;

  constructor(
    socket: net.Socket,
    private readonly secureContext: tls.SecureContext | null,
    private readonly log: Logger,
    /** The client's address when a PROXY header named it; else the socket's. */
    remoteAddress?: string,
  ) {
    this.socket = socket;
    this.tlsActive = socket instanceof tls.TLSSocket;
    this.remoteAddress = remoteAddress ?? socket.remoteAddress ?? 'unknown';
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
    if (!this.closing) this.parser.write(chunk);
  };

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

  private write(data: string): void {
    if (this.closing) return;
    this.pending += data;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pending === '' || this.socket.destroyed) return;
    const data = this.pending;
    this.pending = '';
    this.socket.write(data);
  };

  async startTls(): Promise<void> {
    if (!this.secureContext) throw new Error('no TLS certificate configured');
    this.flush(); // <proceed/> must leave in clear text before the handshake
    const plain = this.socket;
    plain.removeListener('data', this.onData);
    plain.removeListener('close', this.onClose);
    plain.removeListener('error', this.onError);
    this.parser = this.newParser();
    const secured = new tls.TLSSocket(plain, { isServer: true, secureContext: this.secureContext });
    this.socket = secured;
    this.attach(secured);
    await new Promise<void>((resolve, reject) => {
      secured.once('secure', resolve);
      secured.once('error', reject);
      secured.once('close', () => reject(new Error('connection closed during TLS handshake')));
    });
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
  /** Certificate for STARTTLS, or for the whole connection when `directTls` (5223). */
  credentials: { cert: string; key: string } | null;
  directTls: boolean;
  /** Every connection starts with a PROXY protocol header (v1 or v2) from the balancer. */
  proxyProtocol: boolean;
  log: Logger;
  onConnection(transport: TcpTransport): void;
}

/** Starts listening; resolves with the bound server once the port is open. */
export function listenTcp(opts: TcpListenerOptions): Promise<net.Server> {
  const secureContext = opts.credentials ? tls.createSecureContext(opts.credentials) : null;
  const accept = (socket: net.Socket, remoteAddress?: string): void => {
    opts.onConnection(new TcpTransport(socket, secureContext, opts.log, remoteAddress));
  };
  const directTls = opts.directTls && secureContext !== null;
  const server = opts.proxyProtocol
    // The header comes before TLS, so the listener is plain TCP and TLS starts after it.
    ? net.createServer((socket) => void acceptProxied(socket, directTls ? secureContext : null, opts.log, accept))
    : directTls
      ? tls.createServer(opts.credentials!, (socket) => accept(socket))
      : net.createServer((socket) => accept(socket));
  server.on('tlsClientError', (err: Error) => opts.log.debug('TLS handshake failed', { error: err.message }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

/**
 * A connection from the balancer: the PROXY header, then (direct TLS) the handshake, then
 * the XMPP stream. Anything wrong before the stream ends the connection without a word:
 * the peer is not speaking XMPP yet, and nothing it could read would be safe to say.
 */
async function acceptProxied(
  socket: net.Socket,
  secureContext: tls.SecureContext | null,
  log: Logger,
  accept: (socket: net.Socket, remoteAddress: string) => void,
): Promise<void> {
  const peer = socket.remoteAddress ?? 'unknown';
  let client: string;
  try {
    client = (await readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS)).remoteAddress;
  } catch (err) {
    log.debug('PROXY protocol header refused', { address: peer, error: (err as Error).message });
    socket.destroy();
    return;
  }
  if (!secureContext) {
    accept(socket, client);
    return;
  }
  // The TLS socket takes over what readProxyHeader put back (the start of the ClientHello).
  const secured = new tls.TLSSocket(socket, { isServer: true, secureContext });
  const failure = await new Promise<Error | null>((resolve) => {
    const settle = (err: Error | null): void => {
      clearTimeout(timer);
      secured.removeListener('secure', onSecure);
      secured.removeListener('error', settle);
      secured.removeListener('close', onClose);
      resolve(err);
    };
    const onSecure = (): void => settle(null);
    const onClose = (): void => settle(new Error('connection closed during TLS handshake'));
    const timer = setTimeout(() => settle(new Error('TLS handshake timed out')), TLS_HANDSHAKE_TIMEOUT_MS);
    secured.once('secure', onSecure);
    secured.once('error', settle);
    secured.once('close', onClose);
  });
  if (failure) {
    log.debug('TLS handshake failed', { address: client, error: failure.message });
    secured.on('error', () => {});
    secured.destroy();
    return;
  }
  accept(secured, client);
}
