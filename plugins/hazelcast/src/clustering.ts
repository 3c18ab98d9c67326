// When this node tries to be in the cluster, and what it tells operators meanwhile. While
// clustering is on, the node keeps trying until it is joined, however long Hazelcast is away:
//
// - at server start it waits hazelcast.startup.delay.seconds, then tries up to
//   1 + hazelcast.startup.retry.count times, hazelcast.startup.retry.seconds apart. All that
//   time the node is paused (no logins, /readyz 503): a client that logged in now would see
//   nobody on the other nodes. Once the budget is spent it serves standalone, degraded;
// - from then on, and whenever it loses the cluster later (the Hazelcast client gave up
//   reconnecting), it tries again with a pause that starts at 1 s and doubles up to
//   hazelcast.rejoin.max.seconds, logging each failed attempt, serving standalone meanwhile;
// - turned on while running, it joins without pausing anything, and is degraded only once an
//   attempt has failed;
// - turned off, whatever is pending stops at once, without another log line.
import type { ClusterSummary, Logger } from 'xmppd';

export type Phase = 'off' | 'waiting' | 'joining' | 'joined' | 'retrying';

export interface ClusteringOptions {
  startupDelayMs: () => number;
  retry: () => { count: number; pauseMs: number };
  rejoinMaxMs: () => number;
  /** One attempt to join (throws why it failed), and leaving (also after a lost cluster). */
  join(): Promise<void>;
  leave(): Promise<void>;
  /** Clustering went off while an attempt may be under way: it must end quietly. */
  abandon(): void;
  /** Whether the Hazelcast connection of the joined node is up. */
  connected(): boolean;
  /** The phase changed in a way the health check sees: check now, not at the next round. */
  changed(): void;
  log: Logger;
}

/** First pause before joining again after the cluster was lost or the start-up budget spent. */
const FIRST_REJOIN_PAUSE_MS = 1000;

export class Clustering {
  private current: Phase = 'off';
  /** Bumped by every switch: a loop of an older generation stops at its next step. */
  private generation = 0;
  /** Refusing logins: the node is starting and has not joined yet. */
  private starting = false;
  private failures = 0;
  private lastError: string | null = null;
  private wake: (() => void) | null = null;
  private pause: NodeJS.Timeout | null = null;
  /** Joining and leaving never overlap. */
  private steps: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ClusteringOptions) {}

  get phase(): Phase {
    return this.current;
  }

  /** Whether new logins must wait (see the health check in index.ts). */
  get refusingLogins(): boolean {
    return this.starting && this.current !== 'off' && this.current !== 'joined';
  }

  /** False while clustering is on and the node is not in the cluster, or cut off from it. */
  get healthy(): boolean {
    if (this.current === 'off') return true;
    if (this.current === 'joined') return this.options.connected();
    // A join under way that has not failed yet is not a fault (no flash of degraded).
    return this.current === 'joining' && this.failures === 0 && !this.starting;
  }

  /** What /status says while clustering is on and the node is not joined. */
  summary(): ClusterSummary {
    const state = {
      off: 'standalone',
      waiting: 'waiting for the startup delay',
      joining: 'joining',
      joined: 'joined',
      retrying: 'not joined: trying again',
    }[this.current];
    return { enabled: this.current !== 'off', state, reason: this.lastError, members: [], seniorNodeId: null };
  }

  /** Clustering on: `atStartup` for the server's own start (delay, budget, logins refused). */
  on(atStartup: boolean): void {
    if (this.current !== 'off') return;
    const generation = ++this.generation;
    this.starting = atStartup;
    this.failures = 0;
    this.lastError = null;
    void this.run(generation, atStartup ? 'startup' : 'live');
  }

  /** Clustering off (or the plugin unloading): stops any pending attempt, then leaves. */
  off(): Promise<void> {
    this.generation++;
    this.current = 'off';
    this.starting = false;
    this.lastError = null;
    this.cancelPause();
    this.options.abandon();
    return this.step(() => this.options.leave());
  }

  /** The joined node lost the cluster for good: leave, then join again without a budget. */
  lost(): void {
    if (this.current !== 'joined') return;
    const generation = ++this.generation;
    this.current = 'retrying';
    this.lastError = 'lost the connection to the Hazelcast cluster';
    void this.step(() => this.options.leave()).then(() => this.run(generation, 'rejoin'));
  }

  private async run(generation: number, why: 'startup' | 'live' | 'rejoin'): Promise<void> {
    const { options } = this;
    const live = (): boolean => generation === this.generation;
    if (why === 'startup' && options.startupDelayMs() > 0) {
      this.current = 'waiting';
      options.log.info('clustering is on: joining after the startup delay', { seconds: options.startupDelayMs() / 1000 });
      await this.sleep(options.startupDelayMs());
    }
    const budget = why === 'rejoin' ? 0 : options.retry().count + 1;
    for (let attempt = 1; live(); attempt++) {
      if (this.current !== 'retrying') this.current = 'joining';
      if (why === 'rejoin') options.log.info('trying to join the cluster again', { attempt });
      try {
        await this.step(() => options.join());
      } catch (err) {
        if (!live()) return;
        this.failures++;
        this.lastError = err instanceof Error ? err.message : String(err);
        const pauseMs = attempt < budget ? options.retry().pauseMs : this.backoff(attempt - budget);
        options.log.error('cannot join the cluster', { attempt, ...(attempt <= budget ? { of: budget } : {}), error: this.lastError, nextSeconds: pauseMs / 1000 });
        if (attempt === budget) {
          this.starting = false;
          this.current = 'retrying';
          options.changed();
          options.log.error('clustering is on but this node could not join within its start-up retries; it serves standalone (degraded) and keeps trying', { reason: this.lastError });
        }
        await this.sleep(pauseMs);
        continue;
      }
      if (!live()) {
        // Switched off while the attempt ran: undo it.
        await this.step(() => options.leave());
        return;
      }
      this.current = 'joined';
      this.starting = false;
      this.failures = 0;
      this.lastError = null;
      options.changed();
      if (why === 'rejoin' || attempt > budget) options.log.info('joined the cluster again', { attempts: attempt });
      return;
    }
  }

  /** 1 s, 2 s, 4 s ... up to hazelcast.rejoin.max.seconds. */
  private backoff(failuresPastBudget: number): number {
    const exponent = Math.min(Math.max(failuresPastBudget - 1, 0), 30);
    return Math.min(FIRST_REJOIN_PAUSE_MS * 2 ** exponent, this.options.rejoinMaxMs());
  }

  private step<T>(work: () => Promise<T>): Promise<T> {
    const run = this.steps.then(work);
    this.steps = run.catch(() => undefined);
    return run;
  }

  /** A pause that off() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.pause = setTimeout(() => {
        this.pause = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  private cancelPause(): void {
    if (this.pause) clearTimeout(this.pause);
    this.pause = null;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
