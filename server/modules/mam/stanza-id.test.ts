import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newArchiveId } from './stanza-id.ts';

test('archive ids are 16 URL-safe characters, unique, and sort as the clock that made them', () => {
  const at = Date.parse('2026-12-04T12:00:00.000Z');
  const ids = [newArchiveId(at), newArchiveId(at + 1), newArchiveId(at + 1000), newArchiveId(at + 86_400_000), newArchiveId(2 ** 47)];
  for (const id of ids) assert.match(id, /^[-0-9A-Za-z_]{16}$/);
  assert.deepEqual([...ids].sort(), ids, 'byte order is time order');
  const many = new Set(Array.from({ length: 10_000 }, () => newArchiveId(at)));
  assert.equal(many.size, 10_000, 'ids of one millisecond differ by their random part');
});
