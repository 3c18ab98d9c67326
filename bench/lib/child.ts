// Child processes of a benchmark run, each pinned to a CPU with taskset (or left to the
// scheduler with a null CPU): the load generator (one scenario, JSON result on stdout,
// progress passed through on stderr) and the micro-benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../load/generator.ts';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

interface Output {
  stdout: string;
}

/** Children still running, so an interrupted benchmark can stop them (killChildren). */
const running = new Set<ChildProcess>();

function run(cpu: number | null, args: string[], passStderr: boolean): Promise<Output> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, '--import', 'tsx', ...args];
    const proc = spawn(cpu === null ? command[0]! : 'taskset', cpu === null ? command.slice(1) : ['-c', String(cpu), ...command], {
      cwd: join(BENCH_DIR, '..'),
      stdio: ['ignore', 'pipe', passStderr ? 'inherit' : 'pipe'],
    });
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
    proc.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code === 0) resolve({ stdout });
      else reject(new Error(`${args.join(' ').slice(0, 200)} exited with ${code}\n${stderr.slice(-2000)}`));
    });
  });
}

/** Runs one scenario in a generator process of its own on `cpu` (anywhere if null). */
export async function runGenerator<R>(cpu: number | null, scenario: Scenario): Promise<R> {
  const { stdout } = await run(cpu, [join(BENCH_DIR, 'load', 'generator.ts'), JSON.stringify(scenario)], true);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as R;
}

/** Runs a micro-benchmark script (bench/parser.ts, bench/sasl.ts) and returns its lines. */
export async function runMicro(cpu: number, script: string, args: string[] = []): Promise<string[]> {
  const { stdout } = await run(cpu, [join(BENCH_DIR, script), ...args], false);
  return stdout.trim().split('\n');
}

/** Kills every generator or micro-benchmark still running (an interrupted run). */
export function killChildren(): void {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
}
