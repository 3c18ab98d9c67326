import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { Logger, setLogLevel } from '../log.ts';
import { openStorage } from './database.ts';
import type { ArchiveEntry } from './types.ts';

setLogLevel('warn');

const base = Date.parse('2026-01-01T00:00:00.000Z');

function entry(owner: string, n: number, withJid = 'bob@localhost', resource: string | null = 'phone'): ArchiveEntry {
  return {
    owner,
    id: `${owner}-${n}`,
    with: withJid,
    withResource: resource,
    outgoing: n % 2 === 0,
    at: new Date(base + n * 1000),
    stanza: `<message xmlns="jabber:client" id="m${n}"><body>ü ${n}</body></message>`,
  };
}

for (const type of DIALECTS) {
  describe(`archive repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('appends in order and pages forward and backward from a position', async () => {
      const { archive } = db.storage;
      // Written in the order of their instants, as the archive writes them.
      await archive.append([entry('zed', 0)]);
      await archive.append(Array.from({ length: 10 }, (_, i) => entry('alice', i, i < 6 ? 'bob@localhost' : 'carol@localhost')));
      const all = await archive.page('alice', {}, 100, false);
      assert.deepEqual(all.map((m) => m.id), Array.from({ length: 10 }, (_, i) => `alice-${i}`));
      assert.equal(all[1]!.stanza, '<message xmlns="jabber:client" id="m1"><body>ü 1</body></message>');
      assert.equal(all[1]!.at.getTime(), base + 1000);
      assert.equal(all[1]!.with, 'bob@localhost');
      assert.equal(all[1]!.withResource, 'phone');
      assert.equal(all[0]!.outgoing, true);
      assert.equal(all[1]!.outgoing, false);
      for (let i = 1; i < all.length; i++) assert.ok(all[i]!.seq > all[i - 1]!.seq);

      const third = await archive.position('alice', 'alice-3');
      assert.equal(third, all[3]!.seq);
      assert.equal(await archive.position('alice', 'zed-0'), null, 'ids are per archive');
      assert.equal(await archive.position('alice', 'nope'), null);

      assert.deepEqual((await archive.page('alice', { afterSeq: third! }, 2, false)).map((m) => m.id), ['alice-4', 'alice-5']);
      assert.deepEqual((await archive.page('alice', { beforeSeq: third! }, 2, true)).map((m) => m.id), ['alice-2', 'alice-1']);
      assert.deepEqual((await archive.page('alice', {}, 3, true)).map((m) => m.id), ['alice-9', 'alice-8', 'alice-7']);
      assert.deepEqual(await archive.page('alice', {}, 0, false), []);
    });

    test('filters by contact, resource, time and ids; counts up to a bound', async () => {
      const { archive } = db.storage;
      const ids = async (filter: Parameters<typeof archive.page>[1]): Promise<string[]> => (await archive.page('alice', filter, 100, false)).map((m) => m.id);
      assert.deepEqual(await ids({ with: { bare: 'carol@localhost' } }), ['alice-6', 'alice-7', 'alice-8', 'alice-9']);
      assert.deepEqual(await ids({ with: { bare: 'carol@localhost', resource: 'phone' } }), ['alice-6', 'alice-7', 'alice-8', 'alice-9']);
      assert.deepEqual(await ids({ with: { bare: 'carol@localhost', resource: 'desk' } }), []);
      assert.deepEqual(await ids({ start: new Date(base + 2000), end: new Date(base + 4000) }), ['alice-2', 'alice-3', 'alice-4']);
      assert.deepEqual(await ids({ ids: ['alice-5', 'alice-1', 'zed-0'] }), ['alice-1', 'alice-5']);
      assert.deepEqual(await ids({ ids: [] }), []);

      assert.equal(await archive.count('alice', {}, 100), 10);
      assert.equal(await archive.count('alice', {}, 10), 10);
      assert.equal(await archive.count('alice', {}, 9), null, 'over the bound');
      assert.equal(await archive.count('alice', { with: { bare: 'bob@localhost' } }, 100), 6);
      assert.equal(await archive.count('nobody', {}, 100), 0);
    });

    test('preferences are stored per account and replaced', async () => {
      const { archive } = db.storage;
      assert.equal(await archive.prefs('alice'), null);
      await archive.setPrefs('alice', { default: 'roster', always: ['bob@localhost'], never: ['ünï@localhost'] });
      assert.deepEqual(await archive.prefs('alice'), { default: 'roster', always: ['bob@localhost'], never: ['ünï@localhost'] });
      await archive.setPrefs('alice', { default: 'never', always: [], never: [] });
      assert.deepEqual(await archive.prefs('alice'), { default: 'never', always: [], never: [] });
      assert.equal(await archive.prefs('zed'), null);
    });

    test('purge deletes by age across archives; deleteOwner removes one archive and its preferences', async () => {
      const { archive } = db.storage;
      assert.equal(await archive.purge(new Date(base - 1000), 100), 0, 'nothing that old');
      // alice-0..alice-3 and zed-0 are older than base + 3.5 s.
      assert.equal(await archive.purge(new Date(base + 3500), 2), 2, 'bounded per call');
      assert.equal(await archive.purge(new Date(base + 3500), 100), 3);
      assert.equal(await archive.purge(new Date(base + 3500), 100), 0);
      assert.deepEqual((await archive.page('alice', {}, 100, false)).map((m) => m.id)[0], 'alice-4');
      assert.equal(await archive.count('zed', {}, 100), 0);

      await archive.append(Array.from({ length: 1205 }, (_, i) => ({ ...entry('bulk', i), at: new Date() })));
      assert.equal(await archive.count('bulk', {}, 10000), 1205);
      await archive.setPrefs('bulk', { default: 'always', always: [], never: [] });
      await archive.deleteOwner('bulk');
      assert.equal(await archive.count('bulk', {}, 10000), 0);
      assert.equal(await archive.prefs('bulk'), null);
      assert.equal(await archive.count('alice', {}, 100), 6, 'other archives stay');
      assert.equal(await archive.purge(new Date(Date.now() + 60_000), 100), 6, 'all older: all go');
      assert.equal(await archive.purge(new Date(Date.now() + 60_000), 100), 0, 'an empty archive');
    });

    test('two repositories on one database (two nodes) number names alike; an archive deleted can be written again', async () => {
      const other = await openStorage(db.config, new Logger('test'), { migrate: false });
      try {
        const here = db.storage.archive;
        const there = other.archive;
        // Both give numbers to the same new names at once: one number each survives.
        await Promise.all([here.append([entry('dora', 1, 'erin@localhost')]), there.append([entry('dora', 2, 'erin@localhost')])]);
        const names: { name: string }[] = await db.storage.knex('mam_names').whereIn('name', ['dora', 'erin@localhost']).select('name');
        assert.deepEqual(names.map((n) => n.name).sort(), ['dora', 'erin@localhost']);
        for (const repo of [here, there]) {
          assert.deepEqual((await repo.page('dora', { with: { bare: 'erin@localhost' } }, 10, false)).map((m) => m.id).sort(), ['dora-1', 'dora-2']);
        }

        await there.deleteOwner('dora');
        assert.equal(await here.count('dora', {}, 10), 0);
        // The node that still knows dora's number writes under it, and both read it back.
        await here.append([entry('dora', 3, 'erin@localhost')]);
        assert.deepEqual((await there.page('dora', {}, 10, false)).map((m) => m.id), ['dora-3']);
        assert.equal(await there.position('dora', 'dora-3'), (await here.page('dora', {}, 1, false))[0]!.seq);
        assert.equal(await there.position('nobody', 'dora-3'), null, 'a name never written has no archive');
      } finally {
        await other.close();
      }
    });
  });
}
