// An authenticated, bound client: what the router and the modules know of a connection.
// The stream (stream/client-stream.ts) creates it at resource binding; the transport
// underneath may be TCP, BOSH or WebSocket, which nothing here needs to know.
//
// A session may outlive its connection: with stream management (XEP-0198) it is detached
// when the connection drops and attached to the stream that resumes it. Between the two it
// is still bound, so stanzas keep arriving for it; the sent-stanza log keeps them.
import type { JID } from '../jid/jid.ts';
import type { Transport } from '../transport/transport.ts';
import type { Element } from '../xml/element.ts';
import type { StreamError } from '../xml/errors.ts';
import { parseXml } from '../xml/stream-parser.ts';
import type { ServerStats } from '../stats.ts';

/**
 * Sees every stanza the session sends, in order, right before the transport does (stream
 * management counts and keeps them). False: the stanza was kept but the session is over its
 * bound and is being ended.
 */
export interface SentStanzaLog {
  record(stanza: Element | string): boolean;
}

/**
 * May hold a stanza back instead of sending it now (client state indication). True: held,
 * to be sent later through ClientSession.deliver. False: send it now; anything held before
 * it must already have been delivered.
 */
export interface OutboundHold {
  offer(stanza: Element): boolean;
  /** Sends everything held, in order. */
  flush(): void;
}

export class ClientSession {
  /** Available presence last broadcast by the client, null while unavailable. */
  presence: Element | null = null;
  priority = 0;
  /** Has sent initial presence and not yet unavailable (RFC 6121 4.2). */
  get available(): boolean {
    return this.presence !== null;
  }
  /** Requested the roster: receives roster pushes (RFC 6121 2.1.6). */
  interested = false;
  /** Full or bare JIDs this session sent directed presence to (RFC 6121 4.6). */
  readonly directedPresence = new Set<string>();
  /** Per-module state, keyed by module name, so modules need not subclass sessions. */
  readonly data = new Map<string, unknown>();
  /** Flags its route carries to every node (RouteEntry.tags); changed through Kernel.setRouteTag. */
  readonly routeTags = new Set<string>();
  readonly startedAt = new Date();
  closed = false;
  /** Stream management, once the client enabled it. */
  sentLog: SentStanzaLog | null = null;
  /** Client state indication, while the client says it is inactive. */
  hold: OutboundHold | null = null;
  /** Called instead of closing a transport when the session is closed while detached. */
  onDetachedClose: ((error?: StreamError) => void) | null = null;
  private transport: Transport | null;
  /** The kind of the last transport, kept while detached (for logs and the admin API). */
  private lastKind: Transport['kind'];
  private lastSecure: boolean;
  private lastAddress: string;

  constructor(
    readonly streamId: string,
    readonly jid: JID,
    transport: Transport,
    private readonly stats: ServerStats,
  ) {
    this.transport = transport;
    this.lastKind = transport.kind;
    this.lastSecure = transport.secure;
    this.lastAddress = transport.remoteAddress;
  }

  get kind(): Transport['kind'] {
    return this.transport?.kind ?? this.lastKind;
  }

  get secure(): boolean {
    return this.transport?.secure ?? this.lastSecure;
  }

  get remoteAddress(): string {
    return this.transport?.remoteAddress ?? this.lastAddress;
  }

  /** True while no connection carries the session (waiting for a resumption). */
  get detached(): boolean {
    return this.transport === null;
  }

  /** Whether `transport` is the one carrying the session now. */
  carriedBy(transport: Transport): boolean {
    return this.transport === transport;
  }

  /** Lets go of the connection (returned); what is sent meanwhile goes only to the sent-stanza log. */
  detach(): Transport | null {
    const previous = this.transport;
    if (previous) {
      this.lastSecure = previous.secure;
      this.lastAddress = previous.remoteAddress;
    }
    this.transport = null;
    return previous;
  }

  /** Moves the session to another connection (a resumption); returns the one it left, if any. */
  attach(transport: Transport): Transport | null {
    const previous = this.transport;
    this.transport = transport;
    this.lastKind = transport.kind;
    this.onDetachedClose = null;
    return previous;
  }

  /** Writes a stanza to the client (unless client state indication holds it back). */
  send(el: Element): void {
    if (this.closed) return;
    if (this.hold?.offer(el)) return;
    this.deliver(el);
  }

  /** Writes a stanza past any hold: counted, logged for stream management, then sent. */
  deliver(el: Element): void {
    if (this.closed || (this.sentLog && !this.sentLog.record(el))) return;
    this.transport?.send(el);
    const kind = el.name;
    if (kind === 'message' || kind === 'presence' || kind === 'iq') this.stats.stanzasOut[kind]++;
  }

  /** Writes a non-stanza element of the stream (stream management's acks), never counted or held. */
  sendNonza(el: Element): void {
    this.transport?.send(el);
  }

  /** Resends a stanza of the sent-stanza log on a resumed stream, as it was sent before. */
  resend(stanza: Element | string): void {
    if (typeof stanza === 'string') this.transport?.sendSerialized(stanza);
    else this.transport?.send(stanza);
  }

  /** The stream error the server closed the session with (for the log line of its end). */
  closedWith: StreamError | null = null;

  /**
   * Writes a stanza that is already serialized (another node's delivery), without parsing it
   * again. False if the session is closed or its transport would not queue it (the send
   * queue cap: the stream is closed then). With stream management the log keeps it whatever
   * the transport says, so it is never refused once logged.
   */
  sendSerialized(xml: string): boolean {
    if (this.closed) return false;
    if (this.hold) {
      // Holding needs to know what the stanza is; an inactive client receives little.
      this.send(parseXml(xml));
      return true;
    }
    if (this.sentLog) {
      if (!this.sentLog.record(xml)) return true;
      this.transport?.sendSerialized(xml);
    } else if (!this.transport?.sendSerialized(xml)) {
      return false;
    }
    const kind = xml.startsWith('<message') ? 'message' : xml.startsWith('<presence') ? 'presence' : xml.startsWith('<iq') ? 'iq' : null;
    if (kind) this.stats.stanzasOut[kind]++;
    return true;
  }

  /** Ends the stream, optionally with a stream error; the stream reports the close. */
  close(error?: StreamError): void {
    if (error) this.closedWith ??= error;
    if (this.transport) this.transport.close(error);
    else this.onDetachedClose?.(error);
  }
}
