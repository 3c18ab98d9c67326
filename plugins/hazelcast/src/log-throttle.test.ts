import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle } from './log-throttle.ts';

test('the first failure is logged at once, then one line per interval with the count left out', () => {
  let now = 1_000;
  const throttle = new LogThrottle(10_000, () => now);
  const lines: number[] = [];
  const fail = (): void => throttle.hit((leftOut) => lines.push(leftOut));
  fail();
  for (let i = 0; i < 50; i++) {
    now += 100;
    fail();
  }
  assert.deepEqual(lines, [0], 'fifty more within the interval: no line');
  now += 5_001;
  fail();
  assert.deepEqual(lines, [0, 50]);
  now += 60_000;
  fail();
  assert.deepEqual(lines, [0, 50, 0], 'after a quiet spell, at once again');
});
