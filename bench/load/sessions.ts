// Resident memory per idle session: the server's RSS before and after `count` clients have
// logged in (SASL, bind, initial presence) and gone quiet, divided by the count.
import type net from 'node:net';
import type { Endpoint, Mechanism } from './login.ts';
import { closeAll, openSessions } from './open-sessions.ts';
import { everySecond, progress, sleep } from './progress.ts';
import { ScramKeyCache } from './scram-client.ts';
import { totalRssKiB } from '../lib/proc-stats.ts';

export interface SessionsParams extends Endpoint {
  mechanism: Mechanism;
  starttls: boolean;
  /** Session counts to measure at, ascending: sessions are added up to each in turn. */
  steps: number[];
  /** Sessions opened and closed first, so code loaded on first use is in the baseline. */
  warmup: number;
  settleSeconds: number;
  serverPids: number[];
}

export interface SessionsStep {
  sessions: number;
  rssKiB: number;
  perSessionKiB: number;
}

export interface SessionsResult {
  starttls: boolean;
  mechanism: Mechanism;
  rssBeforeKiB: number;
  steps: SessionsStep[];
  /** RSS once every session is closed again (what the process gives back). */
  rssAfterCloseKiB: number;
  /** Sessions opened per second while building up (with the settling pauses left out). */
  openPerSecond: number;
}

/** RSS once it stops moving much (GC and allocator settle after a burst), at most `seconds`. */
async function settledRss(pids: number[], seconds: number): Promise<number> {
  let previous = totalRssKiB(pids);
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const now = totalRssKiB(pids);
    if (i >= 2 && Math.abs(now - previous) < previous * 0.002) return now;
    previous = now;
  }
  return previous;
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

export async function runSessions(p: SessionsParams): Promise<SessionsResult> {
  const label = `sessions${p.starttls ? ' TLS' : ''}`;
  const scramKeys = new ScramKeyCache();
  const common = { ...p, concurrency: 50, scramKeys };
  if (p.warmup > 0) {
    const warm = await openSessions({ ...common, first: 0, count: p.warmup });
    await closeAll(warm.map((s) => s.socket));
  }
  const before = await settledRss(p.serverPids, p.settleSeconds);
  progress(label, `server RSS before: ${mib(before)}`);
  const sockets: net.Socket[] = [];
  const steps: SessionsStep[] = [];
  let opened = 0;
  let openMs = 0;
  const stopTicker = everySecond((t) => {
    progress(label, `${t}s: ${opened} sessions, server RSS ${mib(totalRssKiB(p.serverPids))}`);
  });
  try {
    for (const target of p.steps) {
      const t0 = performance.now();
      const more = await openSessions({
        ...common, first: sockets.length, count: target - sockets.length, onOpened: (n) => { opened = sockets.length + n; },
      });
      openMs += performance.now() - t0;
      for (const s of more) sockets.push(s.socket);
      const rss = await settledRss(p.serverPids, p.settleSeconds);
      steps.push({ sessions: target, rssKiB: rss, perSessionKiB: Math.round(((rss - before) / target) * 10) / 10 });
      progress(label, `server RSS with ${target} idle sessions: ${mib(rss)}, ${steps.at(-1)!.perSessionKiB} KiB each`);
    }
  } finally {
    stopTicker();
  }
  await closeAll(sockets);
  const afterClose = await settledRss(p.serverPids, 5);
  return {
    starttls: p.starttls,
    mechanism: p.mechanism,
    rssBeforeKiB: before,
    steps,
    rssAfterCloseKiB: afterClose,
    openPerSecond: Math.round(sockets.length / (openMs / 1000)),
  };
}
