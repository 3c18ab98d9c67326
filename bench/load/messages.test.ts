import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interleave } from './messages.ts';

test('senders and receivers opened on two nodes interleave as the scenario pairs them', () => {
  assert.deepEqual(interleave(['s0', 's1'], ['r0', 'r1']), ['s0', 'r0', 's1', 'r1']);
  assert.throws(() => interleave(['s0'], []), /1 senders for 0 receivers/);
});
