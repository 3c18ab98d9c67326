import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

for (const type of DIALECTS) {
  describe(`property repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('set, get, all and unset', async () => {
      const p = db.storage.properties;
      assert.deepEqual(await p.all(), []);
      assert.equal(await p.get('xmpp.offline.max-per-user'), null);
      const before = Date.now();
      await p.set('xmpp.offline.max-per-user', '100');
      await p.set('admin.motd', 'Grüße 👋\nline two');
      const row = await p.get('admin.motd');
      assert.equal(row?.value, 'Grüße 👋\nline two');
      assert.ok(row.updatedAt instanceof Date && Math.abs(row.updatedAt.getTime() - before) < 5000);
      await p.set('xmpp.offline.max-per-user', '200');
      assert.deepEqual((await p.all()).map((r) => [r.name, r.value]), [['admin.motd', 'Grüße 👋\nline two'], ['xmpp.offline.max-per-user', '200']]);
      assert.equal(await p.unset('admin.motd'), true);
      assert.equal(await p.unset('admin.motd'), false);
      assert.equal(await p.get('admin.motd'), null);
    });

    test('the fingerprint changes on every set, update and unset, and only then', async () => {
      const p = db.storage.properties;
      const seen = new Set<string>();
      const step = async (change: () => Promise<unknown>) => {
        await change();
        const fp = await p.fingerprint();
        assert.ok(!seen.has(fp), `fingerprint ${fp} repeated`);
        seen.add(fp);
      };
      seen.add(await p.fingerprint());
      assert.equal(await p.fingerprint(), [...seen][0]);
      await step(() => p.set('a.b', '1')); // new
      await step(() => p.set('a.b', '2')); // update, likely in the same millisecond
      await step(() => p.set('a.b', '2')); // same value again is still a write
      await step(() => p.set('a.c', 'x'));
      await step(() => p.unset('a.c')); // removal: count and newest time may match an earlier state
      await step(() => p.unset('a.b'));
      const last = await p.fingerprint();
      assert.equal(await p.unset('a.b'), false);
      assert.equal(await p.fingerprint(), last);
    });

    test('a name longer than the column is refused on both dialects', async () => {
      await assert.rejects(db.storage.properties.set('x'.repeat(192), 'v'), RangeError);
      await db.storage.properties.set('y'.repeat(191), 'v');
      assert.equal((await db.storage.properties.get('y'.repeat(191)))?.value, 'v');
    });
  });
}
