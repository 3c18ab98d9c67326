// /ws: accepts WebSocket upgrades that offer the `xmpp` subprotocol (RFC 7395 3.1) from an
// allowed origin, and runs a client stream over each connection. Anything else is refused
// with an HTTP status and a sentence saying why, before any WebSocket exists.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { AddressCounter } from '../transport/client-connections.ts';
import type { Transport } from '../transport/transport.ts';
import { StreamError } from '../xml/errors.ts';
import { originPolicy } from './cors.ts';
import type { HttpProperties } from './http-properties.ts';
import { WebSocketTransport } from './websocket-transport.ts';

export const WEBSOCKET_PATH = '/ws';
/** Openfire's clients are configured with a trailing slash: both are the endpoint. */
const WEBSOCKET_PATHS = [WEBSOCKET_PATH, `${WEBSOCKET_PATH}/`];
/** Frames beyond this are refused by the WebSocket layer itself; stanza limits are lower. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 1024;
/** At shutdown, how long connections get to receive their stream error before being cut. */
const SHUTDOWN_GRACE_MS = 1_000;

export interface WebSocketEndpointOptions {
  properties: HttpProperties;
  accept(transport: Transport): void;
  /** Counts each WebSocket for its client's address, and the limits its transport reads. */
  connections: AddressCounter;
  /** Client address of a request (the socket's, or a trusted proxy's forwarded one). */
  remoteAddress(req: http.IncomingMessage): string;
  log: Logger;
}

export class WebSocketEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });

  private readonly transports = new Set<WebSocketTransport>();

  constructor(private readonly options: WebSocketEndpointOptions) {}

  get size(): number {
    return this.transports.size;
  }

  /** The HTTP server's 'upgrade' listener. */
  readonly upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (!WEBSOCKET_PATHS.includes(path!)) return refuse(socket, 404, 'Not Found', `WebSocket connections are served at ${WEBSOCKET_PATH}`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes('xmpp')) {
      return refuse(socket, 400, 'Bad Request', "XMPP over WebSocket requires the 'xmpp' subprotocol (RFC 7395)");
    }
    if (!originPolicy(this.options.properties.corsOrigins.value)(req.headers.origin)) {
      return refuse(socket, 403, 'Forbidden', `origin ${req.headers.origin} is not allowed (xmpp.http.cors.origins)`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const remoteAddress = this.options.remoteAddress(req);
      const slot = this.options.connections.open(remoteAddress, 'websocket');
      const transport = new WebSocketTransport(ws, {
        remoteAddress,
        secure: (req.socket as TLSSocket).encrypted === true,
        admitted: slot.admitted,
        limits: this.options.connections,
        pingInterval: () => this.options.properties.websocketPingInterval.value,
        log: this.options.log,
      });
      this.transports.add(transport);
      ws.once('close', () => {
        this.transports.delete(transport);
        slot.release();
      });
      this.options.accept(transport);
    });
  };

  /** Ends every stream with system-shutdown, then cuts whatever is still connected. */
  async close(): Promise<void> {
    for (const t of this.transports) t.close(new StreamError('system-shutdown'));
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (this.wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = message + '\n';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
