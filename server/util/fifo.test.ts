import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fifo } from './fifo.ts';

test('a Fifo gives items back in order and reports its length', () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  for (let i = 0; i < 5000; i++) q.push(i);
  for (let i = 0; i < 3000; i++) assert.equal(q.shift(), i);
  assert.equal(q.length, 2000);
  q.push(5000);
  for (let i = 3000; i <= 5000; i++) assert.equal(q.shift(), i);
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
  q.push(7);
  q.clear();
  assert.equal(q.length, 0);
});

test('a long queue drains completely, in order', () => {
  const q = new Fifo<number>();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) q.push(i);
  let sum = 0;
  let expected = 0;
  for (let v = q.shift(); v !== undefined; v = q.shift()) {
    assert.equal(v, expected++);
    sum += v;
  }
  assert.equal(sum, (n * (n - 1)) / 2);
});
