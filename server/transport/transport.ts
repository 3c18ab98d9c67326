// The boundary between bytes and XMPP. A transport (TCP, BOSH, WebSocket) owns framing and
// parsing; the stream above it (stream/client-stream.ts) sees only stream opens, stanzas
// and closes, whatever the wire looks like.
import type { Element, Attrs } from '../xml/element.ts';
import type { StreamError } from '../xml/errors.ts';

export type TransportKind = 'tcp' | 'bosh' | 'websocket';

export interface TransportEvents {
  /** The peer opened (or re-opened after a restart) the stream. */
  streamStart(attrs: Attrs): void;
  /** One complete top-level element. */
  stanza(el: Element): void;
  /** The peer closed its stream cleanly. */
  streamEnd(): void;
  /** The peer sent something the transport cannot frame or parse. */
  error(err: StreamError): void;
  /** The underlying connection is gone (after close, error or peer hang-up). */
  closed(): void;
}

export interface Transport {
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  /** True once the channel is encrypted (TLS on the socket or HTTPS/WSS). */
  readonly secure: boolean;
  /** True if STARTTLS can be offered on this transport right now. */
  readonly canStartTls: boolean;
  /** False when the peer's address was over xmpp.c2s.max-connections-per-ip at accept: the
   *  stream refuses it with <policy-violation/> (transport/client-connections.ts counts). */
  readonly admitted: boolean;

  /** Set by the stream before any data is read. */
  setHandler(events: TransportEvents): void;
  /** Upgrades the channel; the stream must restart afterwards. */
  startTls(): Promise<void>;
  /** Writes the server's stream header (framing specific: <stream:stream> or <open/>).
   * Stream features follow through send(). */
  openStream(attrs: Attrs): void;
  /** Queues one element for the peer; transports batch writes per tick. */
  send(el: Element): void;
  /**
   * Queues one stanza already serialized (by serialize(), as another node of the cluster
   * does), without parsing it again; bounded by the send queue cap like send(). False if it
   * was not queued (the stream is closing, or the cap was crossed and the stream closed).
   */
  sendSerialized(xml: string): boolean;
  /** Forgets the parser state: the next bytes start a new stream (after SASL success). */
  restart(): void;
  /** Sets the largest top-level element the parser accepts, in bytes. */
  setMaxStanzaSize(bytes: number): void;
  /**
   * Limits what the peer may send to `rate` bytes per second with bursts of `burst` bytes, by
   * pausing reading (transport/input-shaper.ts); a rate of 0 lifts the limit. BOSH bounds
   * input per request instead and ignores it.
   */
  shapeInput(rate: number, burst: number): void;
  /** Closes our stream (after an optional stream error) and then the connection. */
  close(error?: StreamError): void;
}
