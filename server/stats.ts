// Process-wide counters that /status and /metrics read. Plain numbers, bumped inline on
// the hot path: no allocation, no locking.
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
  /** Open connections per remote address, for the per-IP limit. */
  private readonly perAddress = new Map<string, number>();

  /** Counts a new connection; returns how many the address now has. */
  opened(kind: TransportKind, address: string): number {
    const c = this.connections[kind];
    c.total++;
    c.current++;
    if (c.current > c.peak) c.peak = c.current;
    const n = (this.perAddress.get(address) ?? 0) + 1;
    this.perAddress.set(address, n);
    return n;
  }

  closed(kind: TransportKind, address: string): void {
    this.connections[kind].current--;
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(address, n);
    else this.perAddress.delete(address);
  }
}
