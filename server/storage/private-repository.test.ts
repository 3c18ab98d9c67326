import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

const keys = { salt: 's', iterations: 4096, storedKey: 'k', serverKey: 'k' };
const item = (n: number | string, body = ''): { key: string; xml: string } => ({ key: `{urn:example:${n}}x`, xml: `<x xmlns="urn:example:${n}">${body}</x>` });

for (const type of DIALECTS) {
  describe(`private XML repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
      for (const u of ['carol', 'dave', 'erin', 'frank']) await db.storage.users.create(u, { scramSha1: keys, scramSha256: keys });
    });
    after(() => db.close());

    test('get, set and replace per user and key', async () => {
      const p = db.storage.privateXml;
      const key = 'storage storage:bookmarks';
      assert.equal(await p.get('alice', key), null);
      await p.set('alice', key, '<storage xmlns="storage:bookmarks"><conference name="Café ☕"/></storage>');
      await p.set('alice', 'prefs urn:example:prefs', '<prefs xmlns="urn:example:prefs"/>');
      await p.set('bob', key, '<storage xmlns="storage:bookmarks"/>');
      assert.equal(await p.get('alice', key), '<storage xmlns="storage:bookmarks"><conference name="Café ☕"/></storage>');
      await p.set('alice', key, '<storage xmlns="storage:bookmarks"/>');
      assert.equal(await p.get('alice', key), '<storage xmlns="storage:bookmarks"/>');
      assert.equal(await p.get('alice', 'prefs urn:example:prefs'), '<prefs xmlns="urn:example:prefs"/>');
      assert.equal(await p.get('bob', key), '<storage xmlns="storage:bookmarks"/>');
    });

    test('long namespace keys and large documents', async () => {
      const p = db.storage.privateXml;
      const key = `x urn:${'n'.repeat(4000)}`;
      const xml = `<x xmlns="urn:${'n'.repeat(4000)}">${'ß'.repeat(50_000)}</x>`;
      await p.set('alice', key, xml);
      assert.equal(await p.get('alice', key), xml);
      assert.equal(await p.get('alice', key.slice(0, -1)), null);
    });

    test('store keeps the limit: new keys count, replaced keys do not, an over-limit request stores nothing', async () => {
      const p = db.storage.privateXml;
      assert.equal(await p.store('carol', [item(1), item(2)], 3), 'stored');
      assert.equal(await p.count('carol'), 2);
      // Two new keys where one place is left: neither is stored, the replaced one keeps its old value.
      assert.equal(await p.store('carol', [item(1, 'new'), item(3), item(4)], 3), 'over-limit');
      assert.equal(await p.count('carol'), 2);
      assert.equal(await p.get('carol', item(1).key), item(1).xml);
      assert.equal(await p.store('carol', [item(1, 'new'), item(3)], 3), 'stored');
      assert.equal(await p.get('carol', item(1).key), item(1, 'new').xml);
      assert.equal(await p.count('carol'), 3);
      assert.equal(await p.store('carol', [item(2, 'again')], 3), 'stored', 'replacing at the limit');
      assert.equal(await p.store('carol', [item(5)], 3), 'over-limit');
      // A lowered limit still lets stored elements be replaced, and deletes nothing.
      assert.equal(await p.store('carol', [item(3, 'again')], 1), 'stored');
      assert.equal(await p.count('carol'), 3);
      assert.equal(await p.get('carol', item(5).key), null);
    });

    test('store: one key twice in a request counts once and the last wins; 0 is no limit; unknown users get nothing', async () => {
      const p = db.storage.privateXml;
      assert.equal(await p.store('dave', [item(1, 'a'), item(1, 'b')], 1), 'stored');
      assert.equal(await p.get('dave', item(1).key), item(1, 'b').xml);
      assert.equal(await p.store('dave', Array.from({ length: 30 }, (_, i) => item(i + 10)), 0), 'stored');
      assert.equal(await p.count('dave'), 31);
      assert.equal(await p.store('nobody', [item(1)], 10), 'no-user');
      assert.equal(await p.count('nobody'), 0);
    });

    test('parallel stores of new keys at the limit never exceed it', async () => {
      const p = db.storage.privateXml;
      await p.store('erin', [item('kept')], 5);
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => p.store('erin', [item(`p${i}`)], 5)));
      assert.equal(results.filter((r) => r === 'stored').length, 4);
      assert.equal(results.filter((r) => r === 'over-limit').length, 26);
      assert.equal(await p.count('erin'), 5);
    });

    test('parallel replacements at the limit all succeed', async () => {
      const p = db.storage.privateXml;
      await p.store('frank', [item(1), item(2)], 2);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => p.store('frank', [item(1 + (i % 2), String(i))], 2)));
      assert.deepEqual(new Set(results), new Set(['stored']));
      assert.equal(await p.count('frank'), 2);
    });
  });
}
