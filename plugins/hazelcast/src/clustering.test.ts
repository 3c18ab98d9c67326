import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'xmppd';
import { Clustering, type ClusteringOptions } from './clustering.ts';

interface Harness {
  clustering: Clustering;
  lines: string[];
  attempts: () => number;
  /** Attempts from now on succeed. */
  heal(): void;
  leaves: () => number;
}

function harness(overrides: Partial<ClusteringOptions> = {}): Harness {
  const lines: string[] = [];
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const log = { error: record('ERROR'), warn: record('WARN'), info: record('INFO'), debug: () => {} } as unknown as Logger;
  let attempts = 0;
  let leaves = 0;
  let healed = false;
  const clustering = new Clustering({
    startupDelayMs: () => 0,
    retry: () => ({ count: 1, pauseMs: 10 }),
    rejoinMaxMs: () => 40,
    log,
    connected: () => true,
    changed: () => {},
    abandon: () => {},
    async join() {
      attempts++;
      if (!healed) throw new Error('no member answers');
    },
    async leave() {
      leaves++;
    },
    ...overrides,
  });
  return { clustering, lines, attempts: () => attempts, heal: () => { healed = true; }, leaves: () => leaves };
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
};

test('at start: logins refused through the budget, then degraded and trying on, with growing pauses, until it joins', async () => {
  const h = harness();
  h.clustering.on(true);
  assert.equal(h.clustering.refusingLogins, true);
  assert.equal(h.clustering.healthy, false);
  await until(() => h.attempts() >= 2, 'the budget of two attempts');
  await until(() => h.clustering.phase === 'retrying', 'past the budget');
  assert.equal(h.clustering.refusingLogins, false, 'standalone once the budget is spent');
  assert.match(h.lines.join('\n'), /could not join within its start-up retries/);
  await until(() => h.attempts() >= 5, 'attempts past the budget');
  const pauses = h.lines.filter((l) => l.includes('cannot join the cluster')).map((l) => JSON.parse(l.slice(l.indexOf('{'))).nextSeconds as number);
  // The start-up pause within the budget, then the rejoin backoff (1 s doubling, capped here at 40 ms).
  assert.deepEqual(pauses.slice(0, 4), [0.01, 0.04, 0.04, 0.04]);
  h.heal();
  await until(() => h.clustering.phase === 'joined', 'joined');
  assert.deepEqual([h.clustering.healthy, h.clustering.refusingLogins, h.clustering.summary().reason], [true, false, null]);
  assert.match(h.lines.at(-1)!, /joined the cluster again/);
});

test('switched on while running: no pause of logins, and no fault until an attempt has failed', async () => {
  let release: () => void = () => {};
  const h = harness({ join: () => new Promise<void>((resolve) => { release = resolve; }) });
  h.clustering.on(false);
  await until(() => h.clustering.phase === 'joining', 'joining');
  assert.deepEqual([h.clustering.refusingLogins, h.clustering.healthy], [false, true]);
  release();
  await until(() => h.clustering.phase === 'joined', 'joined');
});

test('switched off during a pause: no further attempt, no further line', async () => {
  const h = harness({ retry: () => ({ count: 5, pauseMs: 60_000 }) });
  h.clustering.on(true);
  await until(() => h.attempts() === 1 && h.lines.some((l) => l.includes('cannot join')), 'a first failure');
  const said = h.lines.length;
  const started = Date.now();
  await h.clustering.off();
  assert.ok(Date.now() - started < 1_000, 'the pause is cut short');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual([h.attempts(), h.lines.length, h.clustering.phase, h.clustering.summary().enabled], [1, said, 'off', false]);
});

test('switched off while an attempt runs: the attempt is abandoned, undone if it succeeds, and says nothing', async () => {
  let release: () => void = () => {};
  let abandoned = 0;
  const h = harness({
    join: () => new Promise<void>((resolve) => { release = resolve; }),
    abandon: () => { abandoned++; },
  });
  h.clustering.on(true);
  await until(() => h.clustering.phase === 'joining', 'an attempt under way');
  const off = h.clustering.off();
  assert.equal(abandoned, 1);
  release();
  await off;
  await until(() => h.leaves() === 2, 'left, and the late success undone');
  assert.deepEqual([h.clustering.phase, h.lines.filter((l) => !l.includes('startup delay'))], ['off', []]);
});

test('a lost cluster: leave, then try again without a start-up budget until it joins', async () => {
  let failing = false;
  const lost = harness({
    async join() {
      if (failing) throw new Error('members gone');
    },
  });
  lost.clustering.on(false);
  await until(() => lost.clustering.phase === 'joined', 'joined');
  failing = true;
  lost.clustering.lost();
  assert.deepEqual([lost.clustering.phase, lost.clustering.healthy, lost.clustering.refusingLogins], ['retrying', false, false]);
  await until(() => lost.lines.filter((l) => l.includes('cannot join')).length >= 4, 'attempts well past any budget');
  assert.ok(lost.leaves() >= 1);
  failing = false;
  await until(() => lost.clustering.phase === 'joined', 'joined again');
  assert.match(lost.lines.join('\n'), /trying to join the cluster again/);
});
