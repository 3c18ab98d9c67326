// Process-wide counters that /status and /metrics read. Plain numbers, bumped inline on
// the hot path: no allocation, no locking. Connections are counted by the transports'
// accept path (transport/client-connections.ts), which also keeps the per-address counts.
import type { TransportKind } from './transport/transport.ts';

export interface ConnectionCounters {
  total: number;
  current: number;
  peak: number;
}

export class ServerStats {
  readonly connections: Record<TransportKind, ConnectionCounters> = {
    tcp: { total: 0, current: 0, peak: 0 },
    bosh: { total: 0, current: 0, peak: 0 },
    websocket: { total: 0, current: 0, peak: 0 },
  };
  logins = 0;
  loginFailures = 0;
  stanzasIn = { message: 0, presence: 0, iq: 0 };
  /** Stanzas written to local clients, by kind (counted in ClientSession.send). */
  stanzasOut = { message: 0, presence: 0, iq: 0 };
  /** Sockets open on the client listeners (TCP, TLS, HTTP, HTTPS), handshakes included. */
  clientSockets = 0;
  /** Sockets closed at accept because the node was at xmpp.c2s.max-connections. */
  refusedSockets = 0;
  /** Streams closed because their peer let more than xmpp.c2s.send-queue.max-bytes wait. */
  sendQueueOverflows = 0;

  opened(kind: TransportKind): void {
    const c = this.connections[kind];
    c.total++;
    c.current++;
    if (c.current > c.peak) c.peak = c.current;
  }

  closed(kind: TransportKind): void {
    this.connections[kind].current--;
  }
}
