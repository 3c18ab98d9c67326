// An authenticated, bound client: what the router and the modules know of a connection.
// The stream (stream/client-stream.ts) creates it at resource binding; the transport
// underneath may be TCP, BOSH or WebSocket, which nothing here needs to know.
import type { JID } from '../jid/jid.ts';
import type { Transport } from '../transport/transport.ts';
import type { Element } from '../xml/element.ts';
import type { StreamError } from '../xml/errors.ts';
import type { ServerStats } from '../stats.ts';

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

  constructor(
    readonly streamId: string,
    readonly jid: JID,
    private readonly transport: Transport,
    private readonly stats: ServerStats,
  ) {}

  get kind(): Transport['kind'] {
    return this.transport.kind;
  }

  get secure(): boolean {
    return this.transport.secure;
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  /** Writes a stanza to the client. */
  send(el: Element): void {
    if (this.closed) return;
    this.transport.send(el);
    const kind = el.name;
    if (kind === 'message' || kind === 'presence' || kind === 'iq') this.stats.stanzasOut[kind]++;
  }

  /** The stream error the server closed the session with (for the log line of its end). */
  closedWith: StreamError | null = null;

  /**
   * Writes a stanza that is already serialized (another node's delivery), without parsing it
   * again. False if the session is closed or its transport would not queue it (the send
   * queue cap: the stream is closed then).
   */
  sendSerialized(xml: string): boolean {
    if (this.closed || !this.transport.sendSerialized(xml)) return false;
    const kind = xml.startsWith('<message') ? 'message' : xml.startsWith('<presence') ? 'presence' : xml.startsWith('<iq') ? 'iq' : null;
    if (kind) this.stats.stanzasOut[kind]++;
    return true;
  }

  /** Ends the stream, optionally with a stream error; the stream reports the close. */
  close(error?: StreamError): void {
    if (error) this.closedWith ??= error;
    this.transport.close(error);
  }
}
