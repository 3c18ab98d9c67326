// Scratch directories of the servers under test: removed after a run unless BENCH_KEEP=1,
// which keeps configurations and logs for a look afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progress } from '../load/progress.ts';

export function makeWorkDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `${name}-bench-`));
}

export function removeWorkDir(dir: string): void {
  if (process.env.BENCH_KEEP === '1') progress('bench', `kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
