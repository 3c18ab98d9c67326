// Creates the benchmark accounts through in-band registration (XEP-0077), for servers whose
// storage we do not write directly (ejabberd's Mnesia).
import { register, type Endpoint } from './login.ts';
import { everySecond, progress } from './progress.ts';
import { BENCH_PASSWORD, benchUser } from './users.ts';

export interface RegisterParams extends Endpoint {
  count: number;
  concurrency: number;
}

export async function runRegister(p: RegisterParams): Promise<{ registered: number; seconds: number }> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const stop = everySecond((t) => progress('register', `${t}s: ${done}/${p.count}`));
  const worker = async (): Promise<void> => {
    while (next < p.count) {
      await register(p, benchUser(next++), BENCH_PASSWORD);
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: p.concurrency }, worker));
  } finally {
    stop();
  }
  return { registered: done, seconds: Math.round((performance.now() - t0) / 100) / 10 };
}
