// The one way a client listener (TCP 5222 and 5223, HTTP, HTTPS) takes a new socket:
//   1. the node-wide cap, before a byte is read (ClientConnections.admitSocket);
//   2. the PROXY protocol header, when the listener sits behind a TCP balancer;
//   3. the per-address count, from accept rather than from when a stream exists;
//   4. TLS from the first byte (5223, HTTPS) within a deadline from accept;
//   5. the socket handed on: to a TcpTransport, or to the HTTP server.
// Nothing before the stream can be told why it is dropped (it speaks no XMPP yet, or no TLS),
// so every refusal up to step 4 closes the socket without a word.
import type { ReloadableSecureContext } from '../tls/reloadable-context.ts';
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log.ts';
import type { ClientConnections } from './client-connections.ts';
import { readProxyHeader } from './proxy-protocol.ts';

/** How long a balancer has to send the PROXY header (the specification asks for 3 s at least). */
const PROXY_HEADER_TIMEOUT_MS = 5_000;

export interface AcceptOptions {
  connections: ClientConnections;
  /** TLS from the first byte (port 5223, the HTTPS listener); null for plain TCP and HTTP. */
  secureContext: ReloadableSecureContext | null;
  /** Protocols offered by ALPN in that handshake (HTTPS offers http/1.1, as https.Server does). */
  alpnProtocols?: string[];
  /** Every connection starts with a PROXY protocol header (v1 or v2) from the balancer. */
  proxyProtocol: boolean;
  /**
   * 'stream': the socket is one XMPP stream (the TCP listeners) and counts for its address
   * from accept to close. 'http': the socket carries requests and WebSockets, and the BOSH
   * sessions and WebSockets count for their clients' addresses themselves; the socket counts
   * for its address only while its TLS handshake runs, unless the peer is a trusted proxy.
   */
  carries: 'stream' | 'http';
  /** A trusted proxy (xmpp.http.trusted-proxies) speaks for many clients: not counted as one. */
  trustedProxy?(address: string): boolean;
  log: Logger;
}

/** The socket to use (the TLS socket once TLS is up), the client's address and its verdict. */
export type Deliver = (socket: net.Socket, client: { address: string; admitted: boolean }) => void;

export async function acceptClientSocket(raw: net.Socket, opts: AcceptOptions, deliver: Deliver): Promise<void> {
  const { connections, log } = opts;
  if (!connections.admitSocket(raw)) return;
  let address = raw.remoteAddress ?? 'unknown';
  if (opts.proxyProtocol) {
    try {
      address = (await readProxyHeader(raw, PROXY_HEADER_TIMEOUT_MS)).remoteAddress;
    } catch (err) {
      log.debug('PROXY protocol header refused', { address, error: (err as Error).message });
      raw.destroy();
      return;
    }
  }
  const { secureContext } = opts;
  const tlsFirst = secureContext !== null;
  const counted = opts.carries === 'stream' || (tlsFirst && !opts.trustedProxy?.(address));
  const slot = counted ? connections.open(address, opts.carries === 'stream' ? 'tcp' : null) : null;
  if (slot) {
    if (raw.destroyed) return slot.release();
    raw.once('close', slot.release);
  }
  if (!secureContext) {
    deliver(raw, { address, admitted: slot?.admitted ?? true });
    return;
  }
  if (slot && !slot.admitted) {
    // Telling why would take a TLS handshake, and letting one run would let an address
    // hold any number of connections in it.
    log.debug('connection refused before TLS: too many connections from the address', { address });
    raw.destroy();
    return;
  }
  // The TLS socket takes over what readProxyHeader put back (the start of the ClientHello).
  const secured = new tls.TLSSocket(raw, { isServer: true, secureContext: secureContext.current, ALPNProtocols: opts.alpnProtocols });
  const failure = await secureHandshake(secured, connections.handshakeTimeoutMs);
  if (failure) {
    log.debug('TLS handshake failed', { address, error: failure.message });
    secured.on('error', () => {});
    secured.destroy();
    return;
  }
  if (opts.carries === 'http') slot?.release();
  deliver(secured, { address, admitted: true });
}

/**
 * Waits for the handshake of a server-side TLS socket: null once it is secure, else why not.
 * The deadline runs from now whatever the peer sends, unlike tls.Server's handshakeTimeout,
 * an idle timer that a peer trickling its ClientHello a byte at a time keeps resetting.
 */
export function secureHandshake(secured: tls.TLSSocket, timeoutMs: number): Promise<Error | null> {
  return new Promise<Error | null>((resolve) => {
    const settle = (err: Error | null): void => {
      clearTimeout(timer);
      secured.removeListener('secure', onSecure);
      secured.removeListener('error', settle);
      secured.removeListener('close', onClose);
      resolve(err);
    };
    const onSecure = (): void => settle(null);
    const onClose = (): void => settle(new Error('connection closed during TLS handshake'));
    const timer = setTimeout(() => settle(new Error(`TLS handshake not finished within ${timeoutMs} ms`)), timeoutMs);
    secured.once('secure', onSecure);
    secured.once('error', settle);
    secured.once('close', onClose);
  });
}

/**
 * For a listening client listener: a failed accept (EMFILE, should descriptors run out after
 * all) is logged and the listener keeps listening, where an 'error' nobody listens to would
 * end the process.
 */
export function logAcceptErrors(server: net.Server, log: Logger): void {
  server.on('error', (err: Error) => log.warn('accepting a client connection failed', { error: err.message }));
}

/**
 * Puts acceptClientSocket in front of what a server (an HTTP server made by fastify) does
 * with a new connection: its own 'connection' listeners then see only admitted sockets,
 * already TLS when the options say so. Call before the server accepts anything.
 */
export function interposeAccept(server: net.Server, opts: AcceptOptions): void {
  const listeners = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (raw: net.Socket) => {
    void acceptClientSocket(raw, opts, (socket) => {
      for (const listener of listeners) listener.call(server, socket);
    });
  });
}
