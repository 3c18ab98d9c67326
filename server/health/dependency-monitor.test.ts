import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../log.ts';
import { DependencyMonitor } from './dependency-monitor.ts';

const log = new Logger('test');

function monitor(timeoutMs = 1_000): DependencyMonitor {
  return new DependencyMonitor(log, { intervalMs: () => 10, timeoutMs });
}

test('a node with every dependency available is running', async () => {
  const m = monitor();
  m.add({ name: 'Database', critical: true, check: async () => true });
  const status = await m.checkNow();
  assert.equal(status.state, 'running');
  assert.equal(status.reason, null);
  assert.equal(m.acceptingLogins, true);
  assert.equal(status.dependencies[0]!.available, true);
  assert.ok(status.dependencies[0]!.checkedAt instanceof Date);
});

test('a critical dependency down pauses the node and names it; it resumes once it answers', async () => {
  const m = monitor();
  let up = false;
  const changes: string[] = [];
  m.onChange((s) => changes.push(s.state));
  m.add({ name: 'Database', critical: true, check: async () => up });
  let status = await m.checkNow();
  assert.equal(status.state, 'paused');
  assert.equal(status.reason, 'The following dependent services are unavailable: Database');
  assert.equal(m.acceptingLogins, false);
  up = true;
  status = await m.checkNow();
  assert.equal(status.state, 'running');
  assert.equal(m.acceptingLogins, true);
  assert.deepEqual(changes, ['paused', 'running']);
});

test('a non-critical dependency down only degrades; the reason lists every unavailable one', async () => {
  const m = monitor();
  let dbUp = true;
  m.add({ name: 'Database', critical: true, check: async () => dbUp });
  m.add({ name: 'Hazelcast', critical: false, check: async () => false });
  let status = await m.checkNow();
  assert.equal(status.state, 'degraded');
  assert.equal(status.reason, 'The following dependent services are unavailable: Hazelcast');
  assert.equal(m.acceptingLogins, true);
  dbUp = false;
  status = await m.checkNow();
  assert.equal(status.state, 'paused');
  assert.equal(status.reason, 'The following dependent services are unavailable: Database, Hazelcast');
});

test('a check that throws or hangs counts as unavailable', async () => {
  const m = monitor(50);
  m.add({ name: 'Database', critical: true, check: () => new Promise(() => {}) });
  m.add({ name: 'Hazelcast', critical: false, check: async () => { throw new Error('refused'); } });
  const started = Date.now();
  const status = await m.checkNow();
  assert.ok(Date.now() - started < 1_000, 'the hanging check was cut off by the timeout');
  assert.equal(status.state, 'paused');
  assert.deepEqual(status.dependencies.map((d) => d.available), [false, false]);
});

test('removing a dependency recomputes the state', async () => {
  const m = monitor();
  const remove = m.add({ name: 'Hazelcast', critical: false, check: async () => false });
  assert.equal((await m.checkNow()).state, 'degraded');
  remove();
  assert.equal(m.state, 'running');
});

test('start() checks periodically until stop()', async () => {
  const m = monitor();
  let calls = 0;
  m.add({ name: 'Database', critical: true, check: async () => { calls++; return true; } });
  m.start();
  await new Promise((r) => setTimeout(r, 100));
  m.stop();
  const seen = calls;
  assert.ok(seen >= 3, `expected several rounds, saw ${seen}`);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(calls <= seen + 1, 'no more rounds after stop');
});
