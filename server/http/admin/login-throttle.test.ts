import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoginThrottle } from './login-throttle.ts';

function throttle(maxFailures: number, windowSeconds = 60) {
  const clock = { t: 1_000_000 };
  const t = new LoginThrottle({ maxFailures: () => maxFailures, windowSeconds: () => windowSeconds }, () => clock.t);
  return { t, clock };
}

test('failures below the limit leave the key free', () => {
  const { t } = throttle(3);
  t.failed(['ip:a']);
  t.failed(['ip:a']);
  assert.equal(t.retryAfter(['ip:a']), 0);
});

test('the limit blocks until the oldest counted failure leaves the window', () => {
  const { t, clock } = throttle(3, 60);
  t.failed(['ip:a']);
  clock.t += 10_000;
  t.failed(['ip:a']);
  t.failed(['ip:a']);
  assert.equal(t.retryAfter(['ip:a']), 50);
  assert.equal(t.retryAfter(['ip:b']), 0, 'another address is not affected');
  clock.t += 50_000;
  assert.equal(t.retryAfter(['ip:a']), 0);
});

test('any blocked key blocks the attempt, with the longest wait', () => {
  const { t, clock } = throttle(2, 100);
  t.failed(['ip:a', 'account:x']);
  clock.t += 30_000;
  t.failed(['ip:b', 'account:x']);
  t.failed(['ip:b']);
  assert.equal(t.retryAfter(['ip:c', 'account:x']), 70);
  assert.equal(t.retryAfter(['ip:b', 'account:y']), 100);
});

test('success clears the count; 0 turns the throttle off', () => {
  const { t } = throttle(1);
  t.failed(['ip:a']);
  assert.ok(t.retryAfter(['ip:a']) > 0);
  t.succeeded(['ip:a']);
  assert.equal(t.retryAfter(['ip:a']), 0);
  const off = throttle(0).t;
  for (let i = 0; i < 100; i++) off.failed(['ip:a']);
  assert.equal(off.retryAfter(['ip:a']), 0);
});

test('memory is bounded when addresses are sprayed', () => {
  const { t } = throttle(1);
  for (let i = 0; i < 20_000; i++) t.failed([`ip:${i}`]);
  assert.equal(t.retryAfter(['ip:0']), 0, 'the oldest keys were forgotten');
  assert.ok(t.retryAfter(['ip:19999']) > 0);
});
