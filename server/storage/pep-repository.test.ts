import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';
import type { PepNode } from './types.ts';

setLogLevel('warn');

const keys = { salt: 's', iterations: 4096, storedKey: 'k', serverKey: 'k' };
const item = (id: string, body = ''): { id: string; payload: string; publisher: string } => ({ id, payload: `<x xmlns="urn:example">${body}</x>`, publisher: 'alice@localhost/phone' });

async function created(db: TestStorage, owner: string, node: string, config: Record<string, string> = {}): Promise<PepNode> {
  const result = await db.storage.pep.createNode(owner, node, config, 0);
  assert.ok(typeof result === 'object', `node ${node} of ${owner} not created: ${String(result)}`);
  return result.node;
}

for (const type of DIALECTS) {
  describe(`PEP repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
      for (const u of ['alice', 'bob', 'carol', 'dave']) await db.storage.users.create(u, { scramSha1: keys, scramSha256: keys });
    });
    after(() => db.close());

    test('nodes are created once per owner and name, with their configuration', async () => {
      const pep = db.storage.pep;
      const first = await pep.createNode('alice', 'urn:xmpp:avatar:metadata', { 'pubsub#access_model': 'presence' }, 0);
      assert.ok(typeof first === 'object' && first.created);
      const again = await pep.createNode('alice', 'urn:xmpp:avatar:metadata', { 'pubsub#access_model': 'open' }, 0);
      assert.ok(typeof again === 'object' && !again.created);
      assert.deepEqual(again.node.config, { 'pubsub#access_model': 'presence' });
      assert.equal(again.node.id, first.node.id);
      await created(db, 'bob', 'urn:xmpp:avatar:metadata');
      await created(db, 'alice', 'Café ☕ node');
      assert.deepEqual((await pep.listNodes('alice')).map((n) => n.node), ['Café ☕ node', 'urn:xmpp:avatar:metadata']);
      assert.equal((await pep.getNode('alice', 'urn:xmpp:avatar:metadata'))!.config['pubsub#access_model'], 'presence');
      assert.equal(await pep.getNode('carol', 'urn:xmpp:avatar:metadata'), null);
      const found = await pep.findNodes(['alice', 'bob', 'carol'], ['urn:xmpp:avatar:metadata']);
      assert.deepEqual(found.map((n) => n.owner).sort(), ['alice', 'bob']);
    });

    test('no node for an unknown owner; the node limit counts only new nodes', async () => {
      const pep = db.storage.pep;
      assert.equal(await pep.createNode('nobody', 'n', {}, 0), 'no-user');
      assert.ok(typeof (await pep.createNode('carol', 'a', {}, 2)) === 'object');
      assert.ok(typeof (await pep.createNode('carol', 'b', {}, 2)) === 'object');
      assert.equal(await pep.createNode('carol', 'c', {}, 2), 'over-limit');
      assert.ok(typeof (await pep.createNode('carol', 'a', {}, 2)) === 'object', 'an existing node at the limit');
    });

    test('publish keeps the newest max items, a republished id becomes the newest', async () => {
      const pep = db.storage.pep;
      const node = await created(db, 'alice', 'urn:example:list');
      assert.deepEqual(await pep.publish(node.id, item('1'), 3), []);
      await pep.publish(node.id, item('2'), 3);
      await pep.publish(node.id, item('3'), 3);
      assert.deepEqual(await pep.publish(node.id, item('1', 'again'), 3), []);
      assert.deepEqual((await pep.items(node.id)).map((i) => i.id), ['2', '3', '1']);
      assert.deepEqual(await pep.publish(node.id, item('4'), 3), ['2']);
      const all = await pep.items(node.id);
      assert.deepEqual(all.map((i) => i.id), ['3', '1', '4']);
      assert.equal(all[1]!.payload, '<x xmlns="urn:example">again</x>');
      assert.equal(all[1]!.publisher, 'alice@localhost/phone');
      assert.ok(all[1]!.publishedAt instanceof Date);
      assert.deepEqual((await pep.items(node.id, { max: 2 })).map((i) => i.id), ['1', '4']);
      assert.deepEqual((await pep.items(node.id, { ids: ['4', '3', 'none'] })).map((i) => i.id), ['3', '4']);
      // A lowered maximum trims at the next publication.
      assert.deepEqual((await pep.publish(node.id, item('5'), 1)).sort(), ['1', '3', '4']);
      assert.deepEqual((await pep.items(node.id)).map((i) => i.id), ['5']);
    });

    test('retract, last items and node deletion', async () => {
      const pep = db.storage.pep;
      const a = await created(db, 'bob', 'urn:example:a');
      const b = await created(db, 'bob', 'urn:example:b');
      const empty = await created(db, 'bob', 'urn:example:empty');
      await pep.publish(a.id, item('a1'), 10);
      await pep.publish(a.id, item('a2'), 10);
      await pep.publish(b.id, item('b1', 'ß'.repeat(20_000)), 10);
      const last = await pep.lastItems([a.id, b.id, empty.id]);
      assert.equal(last.get(a.id)!.id, 'a2');
      assert.equal(last.get(b.id)!.payload.length, `<x xmlns="urn:example">${'ß'.repeat(20_000)}</x>`.length);
      assert.equal(last.has(empty.id), false);
      assert.equal(await pep.retract(a.id, 'a2'), true);
      assert.equal(await pep.retract(a.id, 'a2'), false);
      assert.equal((await pep.lastItems([a.id])).get(a.id)!.id, 'a1');
      assert.equal(await pep.deleteNode(b.id), true);
      assert.equal(await pep.deleteNode(b.id), false);
      assert.equal(await pep.getNode('bob', 'urn:example:b'), null);
      assert.deepEqual(await pep.items(b.id), []);
      await pep.setConfig(a.id, { 'pubsub#max_items': '5' });
      assert.deepEqual((await pep.getNode('bob', 'urn:example:a'))!.config, { 'pubsub#max_items': '5' });
    });

    test('parallel publications to one node never keep more than max items', async () => {
      const pep = db.storage.pep;
      const node = await created(db, 'dave', 'urn:example:busy');
      await Promise.all(Array.from({ length: 20 }, (_, i) => pep.publish(node.id, item(`p${i}`), 4)));
      assert.equal((await pep.items(node.id)).length, 4);
    });

    test('deleting an owner removes its nodes and items only', async () => {
      const pep = db.storage.pep;
      const node = await created(db, 'dave', 'urn:example:gone');
      await pep.publish(node.id, item('x'), 10);
      await pep.deleteOwner('dave');
      assert.deepEqual(await pep.listNodes('dave'), []);
      assert.deepEqual(await pep.items(node.id), []);
      assert.notEqual((await pep.listNodes('bob')).length, 0);
    });
  });

  describe(`caps cache (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('a verification string stored once and read back by any reader', async () => {
      const caps = db.storage.caps;
      const ver = 'sha-1 QgayPKawpkPSDYmwT/WM94uAlu0=';
      assert.equal(await caps.get(ver), null);
      const info = { identities: [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }], features: ['http://jabber.org/protocol/caps', 'urn:xmpp:avatar:metadata+notify'] };
      await caps.put(ver, info);
      await caps.put(ver, { identities: [], features: [] });
      assert.deepEqual(await caps.get(ver), info);
      assert.equal(await caps.get('sha-256 QgayPKawpkPSDYmwT/WM94uAlu0='), null);
    });
  });
}
