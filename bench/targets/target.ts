// A server under test, started on free ports with the benchmark accounts in place.
import type { Endpoint, Mechanism } from '../load/login.ts';

export interface Target {
  /** Name and version, as the report shows them. */
  readonly name: string;
  /** Plain TCP client port (STARTTLS offered where the server has a certificate). */
  readonly endpoint: Endpoint;
  /** Processes whose memory and CPU are the server's. */
  readonly pids: number[];
  /** SASL mechanisms the benchmark may use against it. */
  readonly mechanisms: readonly Mechanism[];
  /** Where its log goes (kept if the run fails). */
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Accounts u0 .. u(users-1), all with BENCH_PASSWORD. */
  users: number;
  /** CPU the server is pinned to (taskset). */
  cpu: number;
}
