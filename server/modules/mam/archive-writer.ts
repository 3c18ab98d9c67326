// Archive rows are written after the message is on its way, never before: a message is
// delivered (or stored offline) whether or not its archive row can be written, so a
// database that is slow or down costs no message and no latency. Rows wait here, in the
// order they were added, and are written in batches, one batch at a time: whatever arrives
// while a batch is written forms the next, so a busy node writes many rows per statement
// and the per-account order is the order of arrival. While rows come fast (the last batch
// was large), the first row of a batch also waits a few milliseconds for others to join
// it: a commit writes every index page it touched, whether one row changed it or fifty, and
// a write that ends quickly (SQLite's) would otherwise leave batches of a few rows, whose
// commits were most of the cost. A quiet node writes at once, as does any node for a reader:
// flushed() starts the write without waiting. A batch that fails is tried again a
// few times, then dropped and logged (the messages were delivered; only their archive copy
// is lost). Rows beyond a bound are dropped at once, so a database that is down cannot
// grow the node's memory without limit.
import type { Logger } from '../../log.ts';
import type { ArchiveEntry, ArchiveRepository } from '../../storage/types.ts';

const RETRY_DELAYS_MS = [100, 500, 2000];
/**
 * Most rows in one write: a backlog is written in pieces, so that a reader waiting for its
 * rows (flushed) and the node's other writes (SQLite has one writer at a time) wait for one
 * piece, not the whole backlog.
 */
const MAX_BATCH = 2000;
/** How long the first row of a batch waits for more, while rows come fast. */
const BATCH_DELAY_MS = 5;
/** A batch at least this large says rows come fast. */
const BUSY_BATCH = 20;

interface Waiter {
  upTo: number;
  resolve(): void;
}

export class ArchiveWriter {
  private queue: ArchiveEntry[] = [];
  /** Rows added so far, and rows done with (written or dropped), counted from the start. */
  private added = 0;
  private done = 0;
  private running = false;
  /** Cancels the write that is scheduled, if one is. */
  private scheduled: (() => void) | undefined;
  private lastBatch = 0;
  private waiters: Waiter[] = [];
  /** Rows dropped so far: over the bound, or not written after every retry. */
  dropped = 0;

  constructor(
    private readonly archive: ArchiveRepository,
    private readonly maxPending: () => number,
    private readonly log: Logger,
  ) {}

  /** Queues a row; false if the bound is reached (the row is dropped and counted). */
  add(entry: ArchiveEntry): boolean {
    if (this.queue.length >= this.maxPending()) {
      if (this.dropped++ % 1000 === 0) this.log.warn('archive writes are behind; rows dropped', { pending: this.queue.length, dropped: this.dropped });
      return false;
    }
    this.queue.push(entry);
    this.added++;
    if (!this.running && !this.scheduled) {
      if (this.lastBatch >= BUSY_BATCH) {
        const t = setTimeout(() => this.start(), BATCH_DELAY_MS);
        this.scheduled = () => clearTimeout(t);
      } else {
        const i = setImmediate(() => this.start());
        this.scheduled = () => clearImmediate(i);
      }
    }
    return true;
  }

  /** Resolves once every row added before the call is written (or given up). */
  flushed(): Promise<void> {
    if (this.done >= this.added) return Promise.resolve();
    const written = new Promise<void>((resolve) => this.waiters.push({ upTo: this.added, resolve }));
    this.start();
    return written;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes what is queued now, unless a write is already under way (it goes on to the rest). */
  private start(): void {
    this.scheduled?.();
    this.scheduled = undefined;
    if (this.running) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
        this.queue = batch === this.queue ? [] : this.queue.slice(MAX_BATCH);
        this.lastBatch = batch.length;
        await this.write(batch);
        this.done += batch.length;
        this.wake();
      }
    } finally {
      this.running = false;
    }
  }

  private async write(batch: ArchiveEntry[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.archive.append(batch);
        return;
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.dropped += batch.length;
          this.log.error('archive rows could not be written; dropped', { rows: batch.length, error: err instanceof Error ? err.message : String(err) });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private wake(): void {
    if (!this.waiters.length) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.upTo <= this.done) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
