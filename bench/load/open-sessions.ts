// Logs many accounts in at once, `concurrency` at a time, and keeps them connected.
import type net from 'node:net';
import { login, type Endpoint, type LoggedIn, type Mechanism } from './login.ts';
import type { ScramKeyCache } from './scram-client.ts';
import { BENCH_PASSWORD, benchUser } from './users.ts';

export interface OpenOptions extends Endpoint {
  mechanism: Mechanism;
  starttls: boolean;
  /** Accounts u(first) .. u(first+count-1). */
  first: number;
  count: number;
  concurrency: number;
  scramKeys: ScramKeyCache;
  onOpened?(opened: number): void;
}

export async function openSessions(o: OpenOptions): Promise<LoggedIn[]> {
  const sessions: LoggedIn[] = new Array(o.count);
  let next = 0;
  let opened = 0;
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      const i = next++;
      const s = await login({
        ...o, username: benchUser(o.first + i), password: BENCH_PASSWORD, resource: 'bench', presence: true,
      });
      s.socket.on('error', () => {});
      sessions[i] = s;
      o.onOpened?.(++opened);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, worker));
  return sessions;
}

/** Closes every socket and resolves once they are all gone (or after `timeoutMs`). */
export async function closeAll(sockets: net.Socket[], timeoutMs = 10_000): Promise<void> {
  const closed = sockets.map((s) => (s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r()))));
  for (const s of sockets) s.end('</stream:stream>');
  const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
  await Promise.race([Promise.all(closed), timer]);
  for (const s of sockets) s.destroy();
}
