import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRoute, encodeRoute } from './maps.ts';

test('a route keeps its tags across the map, and has none when it had none', () => {
  const tagged = decodeRoute('alice@localhost/a', encodeRoute({ jid: 'alice@localhost/a', nodeId: 'n1', available: true, priority: 2, tags: ['carbons'] }));
  assert.deepEqual(tagged, { jid: 'alice@localhost/a', nodeId: 'n1', available: true, priority: 2, tags: ['carbons'] });
  const plain = decodeRoute('alice@localhost/b', encodeRoute({ jid: 'alice@localhost/b', nodeId: 'n1', available: false, priority: 0 }));
  assert.equal(plain?.tags, undefined);
  assert.equal(decodeRoute('x@localhost/c', JSON.stringify({ n: 'n1', a: true, p: 0, t: [1] }))?.tags, undefined, 'tags that are not strings are left out');
});
