import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureThrottle, MemoryFailureStore, addressKey, type FailureStore } from './failure-throttle.ts';

function throttle(windowSeconds = 60, store: FailureStore = new MemoryFailureStore()) {
  const clock = { t: 1_000_000 };
  const t = new FailureThrottle(store, () => windowSeconds, () => clock.t);
  return { t, clock };
}

const key = (name: string, maxFailures: number) => ({ name, maxFailures });

test('failures below the limit leave the key free, and say which keys have failures', async () => {
  const { t } = throttle();
  await t.failed([key('ip:a', 3)]);
  await t.failed([key('ip:a', 3)]);
  assert.deepEqual(await t.check([key('ip:a', 3), key('ip:b', 3)]), { retryAfter: 0, blocked: [], failing: ['ip:a'] });
});

test('the limit blocks until the oldest counted failure leaves the window', async () => {
  const { t, clock } = throttle(60);
  const a = key('ip:a', 3);
  await t.failed([a]);
  clock.t += 10_000;
  await t.failed([a]);
  await t.failed([a]);
  assert.deepEqual(await t.check([a]), { retryAfter: 50, blocked: ['ip:a'], failing: ['ip:a'] });
  assert.equal((await t.check([key('ip:b', 3)])).retryAfter, 0, 'another address is not affected');
  clock.t += 50_000;
  assert.equal((await t.check([a])).retryAfter, 0);
});

test('any blocked key blocks the attempt, with the longest wait; each key has its own limit', async () => {
  const { t, clock } = throttle(100);
  await t.failed([key('ip:a', 2), key('account:x', 2)]);
  clock.t += 30_000;
  await t.failed([key('ip:b', 2), key('account:x', 2)]);
  await t.failed([key('ip:b', 2)]);
  const c = await t.check([key('ip:c', 2), key('account:x', 2)]);
  assert.equal(c.retryAfter, 70);
  assert.deepEqual(c.blocked, ['account:x']);
  assert.equal((await t.check([key('ip:b', 2), key('account:y', 2)])).retryAfter, 100);
  assert.equal((await t.check([key('ip:b', 3), key('account:x', 3)])).retryAfter, 0, 'a higher limit frees both');
});

test('success clears the count; 0 turns a key off, and neither counts nor reads it', async () => {
  const { t } = throttle();
  await t.failed([key('ip:a', 1)]);
  assert.ok((await t.check([key('ip:a', 1)])).retryAfter > 0);
  await t.succeeded(['ip:a']);
  assert.equal((await t.check([key('ip:a', 1)])).retryAfter, 0);

  const store = new SpyStore();
  const off = throttle(60, store).t;
  for (let i = 0; i < 10; i++) await off.failed([key('ip:a', 0)]);
  assert.equal((await off.check([key('ip:a', 0)])).retryAfter, 0);
  await off.succeeded([]);
  assert.deepEqual(store.calls, [], 'nothing was asked of the store');
});

test('expired failures are purged on a later failure, at most once a minute', async () => {
  const store = new SpyStore();
  const { t, clock } = throttle(10, store);
  await t.failed([key('ip:a', 5)]);
  clock.t += 30_000;
  await t.failed([key('ip:b', 5)]);
  assert.deepEqual(store.calls.filter((c) => c.startsWith('purge')), []);
  clock.t += 30_000;
  await t.failed([key('ip:b', 5)]);
  assert.deepEqual(store.calls.filter((c) => c.startsWith('purge')), [`purge ${clock.t - 10_000}`]);
  assert.deepEqual([...(await store.recent(['ip:a', 'ip:b'], 0)).keys()], ['ip:b'], 'the expired key is gone');
});

test('exclusive: attempts at one key take turns, other keys do not wait, and ending a turn twice is harmless', async () => {
  const { t } = throttle();
  const order: string[] = [];
  const endA1 = await t.exclusive('account:a');
  const a2 = t.exclusive('account:a').then((end) => { order.push('a2'); return end; });
  const endB = await t.exclusive('account:b');
  order.push('b');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['b'], 'the second turn at a waits for the first');
  endA1();
  endA1();
  const endA2 = await a2;
  assert.deepEqual(order, ['b', 'a2']);
  endA2();
  endB();
  (await t.exclusive('account:a'))();
});

test('memory is bounded when addresses are sprayed', async () => {
  const { t } = throttle();
  for (let i = 0; i < 20_000; i++) await t.failed([key(`ip:${i}`, 1)]);
  assert.equal((await t.check([key('ip:0', 1)])).retryAfter, 0, 'the oldest keys were forgotten');
  assert.ok((await t.check([key('ip:19999', 1)])).retryAfter > 0);
});

test('addresses: IPv4 as it is (also mapped into IPv6), IPv6 by its /64 prefix', () => {
  assert.equal(addressKey('203.0.113.5'), 'address:203.0.113.5');
  assert.equal(addressKey('::ffff:203.0.113.5'), 'address:203.0.113.5');
  assert.equal(addressKey('::FFFF:203.0.113.5'), 'address:203.0.113.5');
  assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), 'address:2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0DB8:0001:0002::7'), 'address:2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), 'address:2001:db8:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'address:fe80:0:0:0::/64');
  assert.equal(addressKey('::1'), 'address:0:0:0:0::/64');
  assert.equal(addressKey('64:ff9b:1:2::198.51.100.7'), 'address:64:ff9b:1:2::/64');
  assert.equal(addressKey('unknown'), 'address:unknown', 'anything else is kept as it is');
});

/** A memory store that lists what it was asked. */
class SpyStore extends MemoryFailureStore {
  readonly calls: string[] = [];

  override recent(names: readonly string[], since: number): Promise<Map<string, number[]>> {
    this.calls.push('recent');
    return super.recent(names, since);
  }

  override record(names: readonly string[], at: number): Promise<void> {
    this.calls.push('record');
    return super.record(names, at);
  }

  override clear(names: readonly string[]): Promise<void> {
    this.calls.push('clear');
    return super.clear(names);
  }

  override purge(before: number): Promise<void> {
    this.calls.push(`purge ${before}`);
    return super.purge(before);
  }
}
