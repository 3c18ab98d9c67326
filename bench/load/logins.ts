// Logins per second: `concurrency` clients at a time, each connecting, authenticating,
// binding a resource and closing again, over and over, cycling through the accounts.
import { LatencyHistogram } from './latency-histogram.ts';
import { login, logout, type Endpoint, type Mechanism } from './login.ts';
import { everySecond, progress } from './progress.ts';
import { ScramKeyCache } from './scram-client.ts';
import { CpuMeter } from '../lib/proc-stats.ts';
import { BENCH_PASSWORD, benchUser } from './users.ts';

export interface LoginsParams extends Endpoint {
  mechanism: Mechanism;
  concurrency: number;
  /** Accounts u0 .. u(users-1) are used in turn. */
  users: number;
  warmupSeconds: number;
  seconds: number;
  serverPids: number[];
}

export interface LoginsResult {
  mechanism: Mechanism;
  concurrency: number;
  users: number;
  seconds: number;
  logins: number;
  perSecond: number;
  failures: number;
  firstFailure?: string;
  latency: ReturnType<LatencyHistogram['summary']>;
  serverCores: number;
  generatorCores: number;
  /** Server CPU time per login (all threads, so PBKDF2 in the thread pool counts). */
  serverCpuMsPerLogin: number;
}

export async function runLogins(p: LoginsParams): Promise<LoginsResult> {
  const label = `logins ${p.mechanism}`;
  const scramKeys = new ScramKeyCache();
  const histogram = new LatencyHistogram();
  let next = 0;
  let measuring = false;
  let phase = 'warming up';
  let running = true;
  let done = 0;
  let failures = 0;
  let firstFailure: string | undefined;

  const worker = async (): Promise<void> => {
    while (running) {
      const user = benchUser(next++ % p.users);
      const t0 = performance.now();
      try {
        const session = await login({ ...p, username: user, password: BENCH_PASSWORD, starttls: false, resource: 'bench', presence: false, scramKeys });
        logout(session.socket);
        if (measuring) {
          histogram.record(performance.now() - t0);
          done++;
        }
      } catch (err) {
        failures++;
        firstFailure ??= (err as Error).message;
        if (failures > 100) running = false;
      }
    }
  };

  const workers = Array.from({ length: p.concurrency }, worker);
  let last = 0;
  const stopTicker = everySecond((t) => {
    progress(label, `${t}s: ${phase === 'measuring' ? `${done - last} logins/s` : phase}${failures ? `, ${failures} failed` : ''}`);
    last = done;
  });
  await new Promise((r) => setTimeout(r, p.warmupSeconds * 1000));
  measuring = true;
  phase = 'measuring';
  last = 0;
  const cpu = new CpuMeter(p.serverPids);
  const start = performance.now();
  await new Promise((r) => setTimeout(r, p.seconds * 1000));
  measuring = false;
  phase = 'finishing';
  const elapsed = (performance.now() - start) / 1000;
  const usage = cpu.read();
  running = false;
  await Promise.all(workers);
  stopTicker();
  if (failures > 100) throw new Error(`${label}: too many failures, first: ${firstFailure}`);
  return {
    mechanism: p.mechanism,
    concurrency: p.concurrency,
    users: p.users,
    seconds: Math.round(elapsed * 10) / 10,
    logins: done,
    perSecond: Math.round(done / elapsed),
    failures,
    ...(firstFailure ? { firstFailure } : {}),
    latency: histogram.summary(),
    ...usage,
    serverCpuMsPerLogin: Math.round((usage.serverCores * elapsed * 1000) / Math.max(1, done) * 1000) / 1000,
  };
}
