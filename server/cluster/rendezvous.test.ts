import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownerOf, ranked } from './rendezvous.ts';

const NODES = ['node-a', 'node-b', 'node-c', 'node-d'];
const KEYS = Array.from({ length: 20_000 }, (_, i) => `room${i}@conference.example.com`);

test('the owner is the same whatever the order of the list, and heads the ranking', () => {
  for (const key of KEYS.slice(0, 500)) {
    const owner = ownerOf(key, NODES);
    assert.equal(ownerOf(key, [...NODES].reverse()), owner);
    const rank = ranked(key, NODES);
    assert.equal(rank[0], owner);
    assert.deepEqual([...rank].sort(), NODES);
    assert.deepEqual(ranked(key, [...NODES].reverse()), rank);
  }
  assert.equal(ownerOf('x', []), undefined);
  assert.deepEqual(ranked('x', []), []);
  assert.equal(ownerOf('x', ['only']), 'only');
});

test('keys spread evenly over the nodes', () => {
  const counts = new Map<string, number>();
  for (const key of KEYS) counts.set(ownerOf(key, NODES)!, (counts.get(ownerOf(key, NODES)!) ?? 0) + 1);
  const fair = KEYS.length / NODES.length;
  for (const node of NODES) {
    const n = counts.get(node) ?? 0;
    assert.ok(Math.abs(n - fair) < fair * 0.05, `${node} owns ${n} of ${KEYS.length} keys, expected about ${fair}`);
  }
});

test('removing a node moves only its keys, each to its next in rank', () => {
  const without = NODES.filter((n) => n !== 'node-c');
  let moved = 0;
  for (const key of KEYS) {
    const before = ownerOf(key, NODES)!;
    const after = ownerOf(key, without)!;
    if (before === 'node-c') {
      moved++;
      assert.equal(after, ranked(key, NODES)[1]);
    } else {
      assert.equal(after, before, `${key} moved from ${before} though node-c left`);
    }
  }
  assert.ok(moved > 0);
});

test('a node that joins takes about its share and nothing moves between the others', () => {
  const more = [...NODES, 'node-e'];
  let taken = 0;
  for (const key of KEYS) {
    const after = ownerOf(key, more)!;
    if (after === 'node-e') taken++;
    else assert.equal(after, ownerOf(key, NODES));
  }
  const fair = KEYS.length / more.length;
  assert.ok(Math.abs(taken - fair) < fair * 0.06, `the new node took ${taken}, expected about ${fair}`);
});
