import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputShaper } from './input-shaper.ts';

test('the burst passes at once, then reading pauses as long as the rate asks', () => {
  const shaper = new InputShaper(1000, 5000, 0);
  assert.equal(shaper.take(5000, 0), 0, 'the burst');
  assert.equal(shaper.take(500, 0), 500, '500 bytes over: half a second');
  assert.equal(shaper.take(0, 500), 0, 'paid back after the pause');
  assert.equal(shaper.take(1000, 1500), 0, 'a second later, a second of rate');
});

test('an idle client earns its burst back, never more', () => {
  const shaper = new InputShaper(1000, 2000, 0);
  shaper.take(2000, 0);
  assert.equal(shaper.take(2000, 60_000), 0);
  assert.equal(shaper.take(1, 60_000), 1);
});
