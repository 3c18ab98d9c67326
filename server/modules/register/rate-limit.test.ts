import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimit } from './rate-limit.ts';

test('allows `limit` attempts per window and key, then refuses until the window slides', () => {
  let now = 1_000_000;
  const limit = new RateLimit(() => 60_000, () => now);
  assert.equal(limit.take('10.0.0.1', 2), true);
  now += 10_000;
  assert.equal(limit.take('10.0.0.1', 2), true);
  assert.equal(limit.take('10.0.0.1', 2), false);
  assert.equal(limit.take('10.0.0.2', 2), true, 'another address has its own count');
  now += 50_001; // the first attempt is now older than the window
  assert.equal(limit.take('10.0.0.1', 2), true);
  assert.equal(limit.take('10.0.0.1', 2), false);
});

test('a refused attempt does not count', () => {
  let now = 0;
  const limit = new RateLimit(() => 1_000, () => now);
  assert.equal(limit.take('a', 1), true);
  for (let i = 0; i < 5; i++) assert.equal(limit.take('a', 1), false);
  now = 1_001;
  assert.equal(limit.take('a', 1), true);
});

test('sweep forgets addresses whose attempts are all outside the window', () => {
  let now = 0;
  const limit = new RateLimit(() => 1_000, () => now);
  limit.take('a', 5);
  now = 500;
  limit.take('b', 5);
  now = 1_200;
  limit.sweep();
  assert.equal(limit.size, 1);
  now = 2_000;
  limit.sweep();
  assert.equal(limit.size, 0);
});

test('a changed window applies to the attempts already counted', () => {
  let now = 0;
  let windowMs = 10_000;
  const limit = new RateLimit(() => windowMs, () => now);
  assert.equal(limit.take('a', 1), true);
  now = 5_000;
  assert.equal(limit.take('a', 1), false);
  windowMs = 4_000; // the attempt at 0 is now outside the window
  assert.equal(limit.take('a', 1), true);
});
