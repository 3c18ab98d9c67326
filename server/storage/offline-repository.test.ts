import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';
import { keyOf } from './columns.ts';

setLogLevel('warn');

const keys = { salt: 's', iterations: 4096, storedKey: 'k', serverKey: 'k' };

for (const type of DIALECTS) {
  describe(`offline repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
      for (const u of ['alice', 'bob', 'carol', 'dave', 'ünï']) await db.storage.users.create(u, { scramSha1: keys, scramSha256: keys });
    });
    after(() => db.close());

    test('stores up to the limit, lists oldest first, deletes by id', async () => {
      const { offline } = db.storage;
      const before = Date.now();
      for (let i = 0; i < 3; i++) assert.equal(await offline.store('alice', `<message id="m${i}"><body>ü ${i}</body></message>`, 3), true);
      assert.equal(await offline.store('alice', '<message id="over"/>', 3), false);
      assert.equal(await offline.count('alice'), 3);

      const messages = await offline.list('alice');
      assert.deepEqual(messages.map((m) => m.stanza), [0, 1, 2].map((i) => `<message id="m${i}"><body>ü ${i}</body></message>`));
      assert.ok(messages[0].id < messages[1].id && messages[1].id < messages[2].id);
      for (const m of messages) {
        assert.ok(m.createdAt instanceof Date);
        assert.ok(Math.abs(m.createdAt.getTime() - before) < 5000);
      }

      await offline.delete('alice', [messages[0].id, messages[2].id]);
      assert.deepEqual((await offline.list('alice')).map((m) => m.id), [messages[1].id]);
      // A higher limit lets more in; ids of other users are not touched by a delete.
      assert.equal(await offline.store('alice', '<message id="m3"/>', 5), true);
      assert.equal(await offline.store('bob', '<message id="b0"/>', 5), true);
      const bobs = await offline.list('bob');
      await offline.delete('alice', bobs.map((m) => m.id));
      assert.equal(await offline.count('bob'), 1);
      assert.equal(await offline.total(), 3);
      await offline.delete('alice', []);
      assert.equal(await offline.count('alice'), 2);
    });

    test('a zero limit or an unknown user stores nothing', async () => {
      const { offline } = db.storage;
      assert.equal(await offline.store('carol', '<message/>', 0), false);
      assert.equal(await offline.store('nobody', '<message/>', 10), false);
      assert.equal(await offline.count('nobody'), 0);
    });

    test('parallel stores at the limit never exceed it', async () => {
      const { offline } = db.storage;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => offline.store('carol', `<message id="p${i}"/>`, 7)));
      assert.equal(results.filter(Boolean).length, 7);
      assert.equal(await offline.count('carol'), 7);
    });

    test('a byte quota counts what is stored, in UTF-8 bytes', async () => {
      const { offline } = db.storage;
      const message = `<message><body>${'é'.repeat(100)}</body></message>`; // 232 bytes
      assert.equal(Buffer.byteLength(message), 232);
      assert.equal(await offline.store('dave', message, 100, 500), true);
      assert.equal(await offline.store('dave', message, 100, 500), true);
      assert.equal(await offline.store('dave', message, 100, 500), false, 'a third would make 696 bytes');
      assert.equal(await offline.store('dave', '<message/>', 100, 500), true, 'a small one still fits');
      assert.equal(await offline.store('dave', message, 100, 0), true, '0: no quota');
      assert.equal(await offline.store('dave', 'x'.repeat(600), 100, 500), false);
    });

    test('large stanzas and many deletions', async () => {
      const { offline } = db.storage;
      const big = `<message><body>${'€'.repeat(100_000)}</body></message>`; // 300 kB, beyond MySQL TEXT
      assert.equal(await offline.store('ünï', big, 2000), true);
      // Enough rows to need more than one DELETE, inserted in bulk to keep the test quick.
      const rows = Array.from({ length: 600 }, (_, i) => ({ user_key: keyOf('ünï'), username: 'ünï', stanza: `<message id="${i}"/>`, created_at: new Date() }));
      for (let i = 0; i < rows.length; i += 300) await db.storage.knex('offline_messages').insert(rows.slice(i, i + 300));
      const all = await offline.list('ünï');
      assert.equal(all[0].stanza, big);
      assert.equal(all.length, 601);
      await offline.delete('ünï', all.map((m) => m.id));
      assert.equal(await offline.count('ünï'), 0);
    });
  });
}
