import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from './keyed-queue.ts';

test('work for an idle key runs synchronously', () => {
  const q = new KeyedQueue((err) => assert.fail(String(err)));
  let ran = false;
  q.run('a', () => { ran = true; });
  assert.equal(ran, true);
  assert.equal(q.busy, 0);
});

test('work for one key keeps its order across async steps; other keys are not held up', async () => {
  const q = new KeyedQueue((err) => assert.fail(String(err)));
  const log: string[] = [];
  q.run('a', async () => { await sleep(20); log.push('a1'); });
  q.run('a', () => { log.push('a2'); });
  const third = q.exclusive('a', async () => { log.push('a3'); return 3; });
  q.run('b', () => { log.push('b1'); });
  assert.deepEqual(log, ['b1']);
  assert.equal(await third, 3);
  assert.deepEqual(log, ['b1', 'a1', 'a2', 'a3']);
  await sleep(0);
  assert.equal(q.busy, 0);
});

test('a failure is reported and does not stop the queue; exclusive() rejects to its caller', async () => {
  const errors: unknown[] = [];
  const q = new KeyedQueue((err) => errors.push(err));
  q.run('a', async () => { throw new Error('boom'); });
  q.run('a', () => { throw new Error('sync boom'); });
  await assert.rejects(q.exclusive('a', async () => { throw new Error('mine'); }), /mine/);
  assert.equal(await q.exclusive('a', async () => 'still running'), 'still running');
  assert.deepEqual(errors.map((e) => (e as Error).message), ['boom', 'sync boom']);
});
