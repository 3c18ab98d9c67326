// Ports and processes of the servers under test.
import { execFileSync } from 'node:child_process';
import net from 'node:net';

export { freePort } from '../../test/helpers/processes.ts';

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Resolves once something accepts connections on host:port; throws after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(host, port)) return;
    if (!alive()) throw new Error(`the process meant to listen on ${host}:${port} has exited`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

/** The process listening on a TCP port (its own pid, whatever wrapper script started it). */
export function pidListeningOn(port: number): number {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process found listening on port ${port}:\n${out}`);
  return Number(m[1]);
}
