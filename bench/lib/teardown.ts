// What a benchmark run set up (processes, databases, scratch folders), undone in reverse order
// when it ends, fails, or is interrupted (Ctrl-C, SIGTERM, SIGHUP). A child process also gets
// a watchdog, so it dies with the benchmark even when the benchmark is killed outright and no
// handler runs.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { progress } from '../load/progress.ts';

interface Step {
  what: string;
  undo(): Promise<unknown> | unknown;
}

export class Teardown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | null = null;

  /** `undo` runs at the end, after everything added later has been undone. */
  add(what: string, undo: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, undo });
  }

  /** Undoes every step (once, however often it is called); a failing step does not stop the others. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length) {
        const step = this.steps.pop()!;
        try {
          await step.undo();
        } catch (err) {
          progress('teardown', `${step.what}: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }

  /** On SIGINT, SIGTERM or SIGHUP: `beforeUndo` (stop what is in progress), undo everything, exit. */
  onSignals(beforeUndo: () => void = () => {}): void {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        progress('teardown', `${signal}: stopping everything`);
        beforeUndo();
        void this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
  }
}

/**
 * Kills `proc` if this process dies without saying goodbye (SIGKILL runs no handler): a shell
 * holds a pipe from us and kills the child when the pipe closes without the all-clear line
 * sent at the child's own exit.
 */
export function dieWithParent(proc: ChildProcess): void {
  if (proc.pid === undefined) return;
  const watchdog = spawn('sh', ['-c', `read ok || kill -9 ${proc.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  proc.once('exit', () => watchdog.stdin!.end('ok\n'));
}
