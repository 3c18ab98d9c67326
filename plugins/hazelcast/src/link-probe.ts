// Whether a node's process is still there, asked of its link port. A node killed (kill -9,
// a crash) leaves a closed port: the connection is refused at once. A node that is merely
// slow, frozen (SIGSTOP, a VM pause, a long GC) or cut off by the network does not refuse:
// its kernel still accepts connections into the listen backlog, or nothing answers at all.
// So "refused" is proof of death, and anything else is not.
import net from 'node:net';
import { splitAddress } from './cluster-link.ts';

export type ProbeResult = 'refused' | 'open' | 'unknown';

export function probeLink(address: string, timeoutMs: number): Promise<ProbeResult> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'unknown'));
  });
}
