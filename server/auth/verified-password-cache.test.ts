import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScramKeys } from '../storage/types.ts';
import { VerifiedPasswordCache } from './verified-password-cache.ts';

const keys: ScramKeys = { salt: 'c2FsdA==', iterations: 4096, storedKey: 'AAAA', serverKey: 'BBBB' };

test('remembers a verified password for exactly those keys', () => {
  const cache = new VerifiedPasswordCache(10);
  assert.equal(cache.has('juliet', 'r0meo', keys), false);
  cache.add('juliet', 'r0meo', keys);
  assert.equal(cache.has('juliet', 'r0meo', keys), true);
  assert.equal(cache.has('juliet', 'romeo', keys), false);
  assert.equal(cache.has('romeo', 'r0meo', keys), false);
  // A password change stores new keys: the old entry no longer matches.
  assert.equal(cache.has('juliet', 'r0meo', { ...keys, storedKey: 'CCCC' }), false);
  assert.equal(cache.has('juliet', 'r0meo', { ...keys, salt: 'c2FsdDI=' }), false);
  cache.delete('juliet');
  assert.equal(cache.has('juliet', 'r0meo', keys), false);
});

test('evicts the least recently used entry beyond its size', () => {
  const cache = new VerifiedPasswordCache(2);
  cache.add('a', 'pa', keys);
  cache.add('b', 'pb', keys);
  assert.equal(cache.has('a', 'pa', keys), true); // a is now the most recent
  cache.add('c', 'pc', keys);
  assert.equal(cache.size, 2);
  assert.equal(cache.has('b', 'pb', keys), false);
  assert.equal(cache.has('a', 'pa', keys), true);
  assert.equal(cache.has('c', 'pc', keys), true);
});

test('size 0 disables it', () => {
  const cache = new VerifiedPasswordCache(0);
  cache.add('a', 'pa', keys);
  assert.equal(cache.size, 0);
  assert.equal(cache.has('a', 'pa', keys), false);
});
