import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RouteHold } from './route-hold.ts';

test('only an expected account without a route is held', () => {
  const hold = new RouteHold(() => false);
  assert.equal(hold.wait('a@x', true), null);
  hold.expect(['a@x'], 1000);
  assert.equal(hold.wait('a@x', false), null, 'it has a route: delivered at once');
  assert.notEqual(hold.wait('a@x', true), null);
  assert.notEqual(hold.wait('a@x', false), null, 'behind a held message even with a route, to keep the order');
  assert.equal(hold.size, 2);
  hold.releaseAll();
  assert.equal(hold.size, 0);
});

test('held messages go as soon as the route is back, in order; the account is then forgotten', async () => {
  let up = false;
  const hold = new RouteHold(() => up);
  hold.expect(['a@x'], 5000);
  const order: number[] = [];
  const first = hold.wait('a@x', true)!.then(() => order.push(1));
  const second = hold.wait('a@x', true)!.then(() => order.push(2));
  await sleep(150);
  assert.deepEqual(order, []);
  up = true;
  const started = Date.now();
  await Promise.all([first, second]);
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(order, [1, 2]);
  up = false;
  assert.equal(hold.wait('a@x', true), null, 'back once: a later message takes the normal path');
});

test('past the deadline, or over the bound, messages take the fallback', async () => {
  const hold = new RouteHold(() => false, 2);
  hold.expect(['a@x', 'b@x'], 200);
  const started = Date.now();
  const a = hold.wait('a@x', true);
  assert.notEqual(hold.wait('b@x', true), null);
  assert.equal(hold.wait('a@x', true), null, 'two held already');
  await a;
  assert.ok(Date.now() - started >= 190);
  await sleep(150);
  assert.equal(hold.wait('a@x', true), null, 'deadline passed');
  assert.equal(hold.size, 0);
});

test('a failed delivery to an expected account is tried again later, keeping the expectation', async () => {
  const hold = new RouteHold(() => true);
  assert.equal(hold.retry('a@x', Date.now() - 1000, 50, 500), null, 'not expected, first failed long ago: the caller falls back');
  assert.notEqual(hold.retry('a@x', Date.now(), 50, 500), null, 'a first failure is tried again before anything is expected');
  await sleep(60);
  hold.expect(['a@x'], 1000);
  const started = Date.now();
  const again = hold.retry('a@x', started - 1000, 50, 500);
  assert.notEqual(again, null);
  assert.equal(hold.size, 1);
  await again;
  assert.ok(Date.now() - started >= 45);
  assert.equal(hold.size, 0);
  assert.ok(hold.expects('a@x'), 'still expected: the next try may be held or retried again');
  assert.equal(hold.retry('a@x', 0, 2000, 500), null, 'the deadline would pass before the retry');
  const pending = hold.retry('a@x', 0, 500, 500)!;
  hold.releaseAll();
  await pending;
  assert.equal(hold.size, 0, 'stopping releases retries at once');
});
