import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '../../xml/element.ts';
import { priorityOf } from './priority.ts';

const withPriority = (text?: string) => xml('presence', null, text === undefined ? undefined : xml('priority', null, text));

test('priority is read, clamped to -128..127, and 0 when absent or not an integer', () => {
  assert.equal(priorityOf(withPriority()), 0);
  assert.equal(priorityOf(withPriority('5')), 5);
  assert.equal(priorityOf(withPriority(' -1 ')), -1);
  assert.equal(priorityOf(withPriority('+7')), 7);
  assert.equal(priorityOf(withPriority('1000')), 127);
  assert.equal(priorityOf(withPriority('-1000')), -128);
  assert.equal(priorityOf(withPriority('1.5')), 0);
  assert.equal(priorityOf(withPriority('high')), 0);
  assert.equal(priorityOf(withPriority('')), 0);
});
