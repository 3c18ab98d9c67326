// Message archive rows are written by a thread of their own, over a connection of its own
// (archive-append-worker.ts), not on the event loop. Archiving is the one write every
// message makes, and on SQLite a write runs to its end inside the call, checkpoints and
// disk waits included: on the event loop it stopped every session for as long as each batch
// took (docs/performance.md, "Message archive"). Here the event loop only hands the rows
// over; the node's sessions go on while the thread writes, on another core where there is
// one. On MySQL the thread takes mysql2's statement building and the replies' parsing off
// the loop as well.
//
// The thread starts with the first rows (a node that archives nothing, or a command that
// opens the database, never starts it) and is started again by the next rows if it dies;
// rows it had not confirmed are reported as failed, so the archive writer retries them as
// it would a failed statement. Reads, deletions and preferences stay on the node's own
// connection: only appends come here, so the archive's order is still one writer's.
import { Worker } from 'node:worker_threads';
import type { DatabaseConfig } from '../config/types.ts';
import type { LogFields, Logger } from '../log.ts';
import type { ArchiveEntry } from './types.ts';

/** What the worker is given (workerData). */
export interface AppendWorkerData {
  config: DatabaseConfig;
}

/** Main thread to worker. */
export type AppendRequest = { append: number; entries: readonly ArchiveEntry[] } | { close: true };

/** Worker to main thread. */
export type AppendReply =
  | { done: number; error?: string }
  | { log: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: LogFields };

/** Appends archive rows somewhere other than the caller's connection. */
export interface ArchiveAppender {
  append(entries: readonly ArchiveEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** How long close() lets the thread finish the rows handed over (a database that hangs). */
const CLOSE_WAIT_MS = 10_000;

interface Call {
  resolve(): void;
  reject(err: Error): void;
}

export class ArchiveAppendThread implements ArchiveAppender {
  private worker: Worker | undefined;
  private nextCall = 1;
  private readonly calls = new Map<number, Call>();
  private closed = false;

  constructor(
    private readonly config: DatabaseConfig,
    private readonly log: Logger,
  ) {}

  append(entries: readonly ArchiveEntry[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the archive appender is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextCall++;
    return new Promise<void>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      worker.postMessage({ append: id, entries } satisfies AppendRequest);
    });
  }

  /** Lets the rows handed over be written, then ends the thread (stopped after CLOSE_WAIT_MS). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true } satisfies AppendRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), CLOSE_WAIT_MS);
    });
    if ((await Promise.race([exited, late])) === 'late') {
      this.log.warn('archive append thread did not finish its rows in time; stopped', { waitedMs: CLOSE_WAIT_MS });
      await worker.terminate();
    }
    clearTimeout(timer);
  }

  private start(): Worker {
    // The server's TypeScript is compiled on load by tsx (bin/xmppd.js); a thread starts
    // without it, so the thread's first code registers it and then loads the worker. Both are
    // named by URL, so they resolve whatever the working directory is.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./archive-append-worker.ts', import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: { config: this.config } satisfies AppendWorkerData, name: 'archive-append' });
    // A thread left running must not keep a stopping process up; close() is what waits for it.
    worker.unref();
    worker.on('message', (m: AppendReply) => this.received(m));
    worker.on('error', (err) => this.log.error('archive append thread failed', { error: err.message }));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      // Rows the thread never confirmed are failures to the writer, which tries them again.
      const lost = new Error(`the archive append thread exited (code ${code})`);
      for (const call of this.calls.values()) call.reject(lost);
      this.calls.clear();
    });
    this.worker = worker;
    return worker;
  }

  private received(m: AppendReply): void {
    if ('log' in m) {
      this.log[m.log](m.msg, m.fields);
      return;
    }
    const call = this.calls.get(m.done);
    if (!call) return;
    this.calls.delete(m.done);
    if (m.error === undefined) call.resolve();
    else call.reject(new Error(m.error));
  }
}
