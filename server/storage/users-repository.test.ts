import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';
import { keyOf } from './columns.ts';
import { AccountDeletionPendingError, UserExistsError, type ScramKeys } from './types.ts';

setLogLevel('warn');

function sampleKeys(seed: string): { scramSha1: ScramKeys; scramSha256: ScramKeys } {
  return {
    scramSha1: { salt: `salt1-${seed}`, iterations: 4096, storedKey: `stored1-${seed}`, serverKey: `server1-${seed}` },
    scramSha256: { salt: `salt256-${seed}`, iterations: 10000, storedKey: `stored256-${seed}`, serverKey: `server256-${seed}` },
  };
}

const OWNED = ['roster_items', 'roster_versions', 'offline_messages', 'private_xml', 'vcards', 'blocklist', 'last_activity'];

for (const type of DIALECTS) {
  describe(`users repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('create, get, exists, setKeys', async () => {
      const { users } = db.storage;
      assert.equal(await users.get('alice'), null);
      assert.equal(await users.exists('alice'), false);
      const before = Date.now();
      await users.create('alice', sampleKeys('a'));
      const alice = await users.get('alice');
      assert.ok(alice);
      assert.equal(alice.username, 'alice');
      assert.deepEqual(alice.scramSha1, sampleKeys('a').scramSha1);
      assert.deepEqual(alice.scramSha256, sampleKeys('a').scramSha256);
      assert.ok(alice.createdAt instanceof Date);
      assert.ok(Math.abs(alice.createdAt.getTime() - before) < 5000);
      assert.equal(await users.exists('alice'), true);

      assert.equal(await users.setKeys('alice', sampleKeys('b')), true);
      assert.deepEqual((await users.get('alice'))?.scramSha256, sampleKeys('b').scramSha256);
      assert.equal(await users.setKeys('nobody', sampleKeys('b')), false);
      assert.equal(await users.exists('nobody'), false);
    });

    test('a taken username throws UserExistsError, and names are exact', async () => {
      const { users } = db.storage;
      await users.create('bob', sampleKeys('b'));
      await assert.rejects(users.create('bob', sampleKeys('c')), (err: unknown) => err instanceof UserExistsError && err.username === 'bob');
      // Usernames arrive prepared; storage must not fold case or accents on top.
      await users.create('Bob', sampleKeys('c'));
      await users.create('böb', sampleKeys('d'));
      assert.equal((await users.get('Bob'))?.scramSha1.salt, 'salt1-c');
      assert.equal((await users.get('böb'))?.scramSha1.salt, 'salt1-d');
      assert.equal((await users.get('bob'))?.scramSha1.salt, 'salt1-b');
    });

    test('unicode and maximum-length usernames', async () => {
      const { users } = db.storage;
      const longAscii = 'x'.repeat(1023);
      const longMultibyte = '€'.repeat(341); // 1023 bytes
      for (const name of ['ωμέγα', '用户', '🦊fox', longAscii, longMultibyte]) {
        await users.create(name, sampleKeys(name.slice(0, 5)));
        assert.equal((await users.get(name))?.username, name);
      }
    });

    test('list is sorted by code point and count matches', async () => {
      const { users } = db.storage;
      const all = await users.list();
      assert.deepEqual(all, [...all].sort());
      assert.equal(all.length, await users.count());
      assert.ok(all.includes('alice') && all.includes('用户'));
    });

    test('page: sorted slices, a case-insensitive search, wildcards taken literally', async () => {
      const { users } = db.storage;
      for (const name of ['page_anna', 'page_bert', 'page_Carl', 'pagexdora', 'page%eve']) await users.create(name, sampleKeys(name));
      assert.deepEqual(await users.page({ search: 'page_', limit: 2, offset: 0 }), { usernames: ['page_Carl', 'page_anna'], total: 3 });
      assert.deepEqual(await users.page({ search: 'page_', limit: 2, offset: 2 }), { usernames: ['page_bert'], total: 3 });
      assert.deepEqual((await users.page({ search: 'CARL', limit: 10, offset: 0 })).usernames, ['page_Carl']);
      assert.deepEqual((await users.page({ search: 'page%', limit: 10, offset: 0 })).usernames, ['page%eve']);
      const all = await users.page({ limit: 1000, offset: 0 });
      assert.equal(all.total, await users.count());
      assert.deepEqual(all.usernames, await users.list());
    });

    test('delete removes the user and every row the user owns, and only those', async () => {
      const s = db.storage;
      for (const u of ['carol', 'dave']) {
        await s.users.create(u, sampleKeys(u));
        await s.roster.put(u, { jid: 'eve@example.com', name: 'Eve', subscription: 'both', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: ['Friends'] });
        assert.equal(await s.offline.store(u, `<message to="${u}@example.com"/>`, 10), true);
        await s.privateXml.set(u, 'storage storage:bookmarks', '<storage xmlns="storage:bookmarks"/>');
        await s.vcards.set(u, '<vCard xmlns="vcard-temp"/>');
        await s.blocklist.add(u, ['spam@example.com']);
        await s.lastActivity.set(u, { at: new Date(), status: 'gone' });
      }
      const rowsOf = async (u: string) => {
        const counts: Record<string, number> = {};
        for (const t of OWNED) counts[t] = (await s.knex(t).where({ user_key: keyOf(u) }).select('user_key')).length;
        return counts;
      };
      assert.deepEqual(Object.values(await rowsOf('carol')), OWNED.map(() => 1));

      const entry = await s.users.delete('carol', 'cli');
      assert.ok(entry !== null && entry > 0);
      assert.equal(await s.users.exists('carol'), false);
      assert.deepEqual(Object.values(await rowsOf('carol')), OWNED.map(() => 0));
      assert.deepEqual(Object.values(await rowsOf('dave')), OWNED.map(() => 1));
      assert.equal(await s.users.delete('carol', 'cli'), null);
      const journal = await s.accountDeletions.get(entry);
      assert.deepEqual({ ...journal, deletedAt: undefined }, { id: entry, username: 'carol', source: 'cli', deletedAt: undefined, claimedBy: null, finishedAt: null });

      // The name cannot be taken again until the nodes have finished the deletion.
      await assert.rejects(s.users.create('carol', sampleKeys('new')), AccountDeletionPendingError);
      assert.equal(await s.accountDeletions.claim(entry, 'node1', new Date(Date.now() - 60_000)), true);
      assert.equal(await s.accountDeletions.claim(entry, 'node2', new Date(Date.now() - 60_000)), false, 'claimed once');
      await s.accountDeletions.finish(entry);
      assert.deepEqual((await s.accountDeletions.after(entry - 1, 10)).map((e) => [e.id, e.claimedBy, e.finishedAt !== null]), [[entry, 'node1', true]]);
      assert.deepEqual(await s.accountDeletions.after(entry, 10), []);

      // A row left by a writer that raced the deletion is not the new account's.
      await s.privateXml.set('carol', 'late late', '<late xmlns="late"/>');
      // A new account of the same name starts empty.
      await s.users.create('carol', sampleKeys('new'));
      assert.equal(await s.privateXml.get('carol', 'late late'), null);
      assert.deepEqual(await s.roster.list('carol'), []);
      assert.equal(await s.roster.version('carol'), '0');
      assert.equal(await s.offline.count('carol'), 0);
      assert.equal(await s.vcards.get('carol'), null);
    });

    test('a message stored while the user is deleted never outlives the user', async () => {
      const s = db.storage;
      await s.users.create('frank', sampleKeys('f'));
      const results = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => s.offline.store('frank', `<message id="${i}"/>`, 100)),
        s.users.delete('frank', 'cli'),
        ...Array.from({ length: 10 }, (_, i) => s.offline.store('frank', `<message id="late${i}"/>`, 100)),
      ]);
      assert.ok(typeof results[10] === 'number');
      assert.equal(await s.offline.count('frank'), 0);
    });
  });
}
