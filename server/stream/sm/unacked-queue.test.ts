import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNT_MODULUS, countsBetween, nextCount, parseCount } from './handled-count.ts';
import { UnackedQueue } from './unacked-queue.ts';

test('counts wrap to 0 after 2^32 - 1, and differences are taken across the wrap', () => {
  assert.equal(nextCount(COUNT_MODULUS - 1), 0);
  assert.equal(countsBetween(COUNT_MODULUS - 2, 1), 3);
  assert.equal(countsBetween(5, 5), 0);
});

test('h is an unsigned 32-bit decimal integer', () => {
  assert.equal(parseCount('0'), 0);
  assert.equal(parseCount('4294967295'), 4294967295);
  for (const bad of ['4294967296', '-1', '1.5', '', ' 1', '0x10', undefined]) assert.equal(parseCount(bad), null, String(bad));
});

test('an ack drops what it covers, in order; acking more than was sent is refused', () => {
  const q = new UnackedQueue();
  for (const s of ['a', 'b', 'c', 'd']) q.push(s);
  assert.equal(q.ack(2), 'ok');
  assert.deepEqual(q.pending(), ['c', 'd']);
  assert.equal(q.ack(5), 'too-high');
  assert.deepEqual(q.pending(), ['c', 'd'], 'a refused ack changes nothing');
  assert.equal(q.ack(1), 'ok', 'an old ack repeated says nothing new');
  assert.deepEqual(q.pending(), ['c', 'd']);
  assert.equal(q.ack(4), 'ok');
  assert.equal(q.length, 0);
  assert.equal(q.sent, 4);
});

test('acks across the 2^32 wrap', () => {
  const q = new UnackedQueue(COUNT_MODULUS - 2);
  for (const s of ['a', 'b', 'c', 'd']) q.push(s);
  assert.equal(q.sent, 2, 'the send count wrapped');
  assert.equal(q.ack(COUNT_MODULUS - 1), 'ok');
  assert.deepEqual(q.pending(), ['b', 'c', 'd']);
  assert.equal(q.ack(1), 'ok', 'h wrapped to 1 covers the stanzas up to the third');
  assert.deepEqual(q.pending(), ['d']);
  assert.equal(q.ack(3), 'too-high');
  assert.equal(q.ack(2), 'ok');
  assert.equal(q.length, 0);
});
