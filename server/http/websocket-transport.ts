// XMPP over WebSocket (RFC 7395) as a Transport. Every text frame holds exactly one element:
// <open/> and <close/> in the framing namespace stand for the stream header and its end,
// anything else is a stanza or nonza for the client stream, as over TCP. Pings detect a
// dead peer, since WebSocket clients must not send whitespace keepalives.
import type WebSocket from 'ws';
import type { Logger } from '../log.ts';
import type { TransportLimits } from '../transport/client-connections.ts';
import { InputShaper } from '../transport/input-shaper.ts';
import type { Transport, TransportEvents } from '../transport/transport.ts';
import { openTag, type Attrs, type Element } from '../xml/element.ts';
import { StreamError } from '../xml/errors.ts';
import { parseXml } from '../xml/stream-parser.ts';
import { NS_CLIENT, adoptClientNamespace, serializeStandalone, withClientNamespace } from './wire-element.ts';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** Room in a frame for whitespace around its one element. */
const FRAME_SLACK_BYTES = 1024;

/**
 * The ws library checks a frame's announced length against its maxPayload as soon as the
 * header arrives, before buffering the payload; but maxPayload is fixed per server. Lowering
 * it per connection (to the preauth stanza limit until the client logs in) keeps an
 * unauthenticated client from parking megabytes of incomplete frames in memory. The field
 * is not public API, so its shape is checked; test/http/websocket-limits.test.ts fails if a
 * ws upgrade moves it.
 */
function limitFrameSize(ws: WebSocket, bytes: number): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
}

/** How long we wait for the peer's closing handshake after ours. */
const CLOSE_GRACE_MS = 5_000;

export interface WebSocketTransportOptions {
  remoteAddress: string;
  secure: boolean;
  /** False when the address is over xmpp.c2s.max-connections-per-ip. */
  admitted: boolean;
  limits: TransportLimits;
  /** Seconds between pings, read at each ping (0: none). */
  pingInterval: () => number;
  log: Logger;
}

export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly canStartTls = false;
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly admitted: boolean;
  private handler: TransportEvents | null = null;
  private maxStanzaBytes = 10_240;
  private closing = false;
  private isClosed = false;
  private alive = true;
  private shaper: InputShaper | null = null;
  private pingTimer: NodeJS.Timeout | null = null;

  constructor(private readonly ws: WebSocket, private readonly options: WebSocketTransportOptions) {
    this.remoteAddress = options.remoteAddress;
    this.secure = options.secure;
    this.admitted = options.admitted;
    ws.on('message', this.onMessage);
    ws.on('pong', () => { this.alive = true; });
    ws.on('close', this.onClose);
    ws.on('error', (err) => options.log.debug('websocket error', { address: this.remoteAddress, error: err.message }));
    this.schedulePing();
  }

  setHandler(events: TransportEvents): void {
    this.handler = events;
  }

  async startTls(): Promise<void> {
    throw new Error('WebSocket is encrypted by wss://, not STARTTLS');
  }

  openStream(attrs: Attrs): void {
    const tag = openTag('open', { xmlns: NS_FRAMING, ...attrs });
    this.write(tag.slice(0, -1) + '/>');
  }

  send(el: Element): void {
    this.write(serializeStandalone(el, true));
  }

  /** One text frame, the stanza's own namespace added to its start tag if it has none. */
  sendSerialized(xml: string): boolean {
    return this.write(withClientNamespace(xml));
  }

  /** Each frame is a whole document, so there is no parser state to forget. */
  restart(): void {}

  setMaxStanzaSize(bytes: number): void {
    this.maxStanzaBytes = bytes;
    limitFrameSize(this.ws, bytes + FRAME_SLACK_BYTES);
  }

  close(error?: StreamError): void {
    if (this.closing) return;
    this.closing = true;
    if (this.ws.readyState === this.ws.OPEN) {
      if (error) this.ws.send(serializeStandalone(error.toElement(), true));
      this.ws.send(`<close xmlns='${NS_FRAMING}'/>`);
    }
    this.ws.close(1000);
    // A peer that never completes the closing handshake must not hold the socket.
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private write(data: string): boolean {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return false;
    // bufferedAmount: what ws has queued and what its socket has not written yet. Checked
    // before adding, so one stanza larger than the cap still reaches a reading client.
    const queued = this.ws.bufferedAmount;
    if (queued > this.options.limits.sendQueueMaxBytes) {
      this.close(this.options.limits.sendQueueOverflow(this, queued));
      return false;
    }
    this.ws.send(data);
    return true;
  }

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    if (this.closing) return;
    if (isBinary) return this.handler?.error(new StreamError('bad-format', 'XMPP frames must be text frames (RFC 7395)'));
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8');
    this.shape(text.length);
    if (text.trim() === '') return;
    let el: Element;
    try {
      el = parseXml(text, this.maxStanzaBytes);
    } catch (err) {
      const streamError = err instanceof StreamError ? err : new StreamError('not-well-formed');
      return this.handler?.error(streamError);
    }
    if (el.attrs.xmlns === NS_FRAMING && el.name === 'open') {
      // The framing namespace stands for a 'jabber:client' stream (RFC 7395 3.3.2).
      this.handler?.streamStart({ ...el.attrs, xmlns: NS_CLIENT });
    } else if (el.attrs.xmlns === NS_FRAMING && el.name === 'close') {
      this.handler?.streamEnd();
    } else {
      this.handler?.stanza(adoptClientNamespace(el));
    }
  };

  /** Counts a frame against the input shaper, pausing reading when it asks (empty frames count too). */
  private shape(bytes: number): void {
    const pause = this.shaper?.take(bytes) ?? 0;
    if (pause > 0 && !this.closing) {
      this.ws.pause();
      setTimeout(() => this.ws.resume(), pause).unref();
    }
  }

  shapeInput(rate: number, burst: number): void {
    this.shaper = rate > 0 ? new InputShaper(rate, burst) : null;
  }

  private readonly onClose = (): void => {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closing = true;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.handler?.closed();
  };

  private schedulePing(): void {
    const seconds = this.options.pingInterval();
    // Re-read later so that enabling pings applies to open connections too.
    this.pingTimer = setTimeout(() => {
      if (this.isClosed) return;
      if (seconds > 0) {
        if (!this.alive) {
          this.options.log.debug('websocket peer did not answer a ping; disconnecting', { address: this.remoteAddress });
          this.ws.terminate();
          return;
        }
        this.alive = false;
        this.ws.ping();
      }
      this.schedulePing();
    }, (seconds > 0 ? seconds : 30) * 1000);
    this.pingTimer.unref();
  }
}
