// Whether this node can serve: it pings the services it depends on (the database always,
// Hazelcast once clustering is on) and derives one state from the answers. A critical
// dependency down pauses the node: new logins are refused until it answers again, with no
// operator action. A non-critical one only degrades it. /status, /readyz and /metrics read
// the state; the client stream asks acceptingLogins before SASL.
import type { Logger } from '../log.ts';

export type NodeState = 'running' | 'degraded' | 'paused';

export interface Dependency {
  /** Shown to operators and clients, e.g. 'Database', 'Hazelcast'. */
  name: string;
  /** Unavailable means paused (no new logins) when true, degraded when false. */
  critical: boolean;
  /** Resolves true when the service answers; false or a rejection means unavailable. */
  check(): Promise<boolean>;
}

export interface DependencyStatus {
  name: string;
  critical: boolean;
  available: boolean;
  /** When the last check answered (available or not); null before the first one. */
  checkedAt: Date | null;
}

export interface HealthStatus {
  state: NodeState;
  /** Names every unavailable dependency; null while running. */
  reason: string | null;
  /** When the node entered its current state. */
  since: Date;
  dependencies: DependencyStatus[];
}

export interface MonitorOptions {
  /** Milliseconds between two rounds of checks. */
  intervalMs: () => number;
  /** A check that has not answered after this long counts as unavailable. */
  timeoutMs: number;
}

interface Entry {
  dependency: Dependency;
  available: boolean;
  checkedAt: Date | null;
}

export function describeUnavailable(names: string[]): string {
  return `The following dependent services are unavailable: ${names.join(', ')}`;
}

export class DependencyMonitor {
  private readonly entries: Entry[] = [];
  private current: NodeState = 'running';
  private since = new Date();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private readonly listeners = new Set<(status: HealthStatus) => void>();

  constructor(private readonly log: Logger, private readonly options: MonitorOptions) {}

  /** Adds a dependency (assumed available until checked); returns the function that removes it. */
  add(dependency: Dependency): () => void {
    const entry: Entry = { dependency, available: true, checkedAt: null };
    this.entries.push(entry);
    return () => {
      const i = this.entries.indexOf(entry);
      if (i !== -1) this.entries.splice(i, 1);
      this.update();
    };
  }

  get state(): NodeState {
    return this.current;
  }

  /** False while paused: the client stream refuses SASL with <temporary-auth-failure/>. */
  get acceptingLogins(): boolean {
    return this.current !== 'paused';
  }

  get status(): HealthStatus {
    const down = this.entries.filter((e) => !e.available).map((e) => e.dependency.name);
    return {
      state: this.current,
      reason: down.length ? describeUnavailable(down) : null,
      since: this.since,
      dependencies: this.entries.map((e) => ({
        name: e.dependency.name,
        critical: e.dependency.critical,
        available: e.available,
        checkedAt: e.checkedAt,
      })),
    };
  }

  /** Called after every state change (not after every check). */
  onChange(listener: (status: HealthStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      void this.checkNow().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs()).unref();
      });
    };
    this.timer = setTimeout(tick, this.options.intervalMs()).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs one round of checks now (joining a round in progress) and returns the outcome. */
  async checkNow(): Promise<HealthStatus> {
    this.round ??= this.runRound().finally(() => {
      this.round = null;
    });
    await this.round;
    return this.status;
  }

  private async runRound(): Promise<void> {
    await Promise.all(this.entries.map(async (entry) => {
      entry.available = await this.probe(entry.dependency);
      entry.checkedAt = new Date();
    }));
    this.update();
  }

  private probe(dep: Dependency): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), this.options.timeoutMs);
      dep.check().then((ok) => resolve(ok === true), () => resolve(false)).finally(() => clearTimeout(timer));
    });
  }

  private update(): void {
    const down = this.entries.filter((e) => !e.available);
    const next: NodeState = down.some((e) => e.dependency.critical) ? 'paused' : down.length ? 'degraded' : 'running';
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    this.since = new Date();
    const status = this.status;
    if (next === 'running') this.log.info('all dependent services are available again; resuming', { was: previous });
    else this.log.warn(next === 'paused' ? 'pausing: new logins are refused until this is resolved' : 'degraded', { reason: status.reason });
    for (const listener of this.listeners) listener(status);
  }
}
