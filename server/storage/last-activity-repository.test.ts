import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

for (const type of DIALECTS) {
  describe(`last activity repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('get, set and replace, with millisecond instants', async () => {
      const l = db.storage.lastActivity;
      assert.equal(await l.get('alice'), null);
      const first = { at: new Date('2025-06-30T23:59:59.999Z'), status: 'Gone fishing 🎣' };
      await l.set('alice', first);
      assert.deepEqual(await l.get('alice'), first);
      const second = { at: new Date('2026-02-28T12:00:00.001Z'), status: '' };
      await l.set('alice', second);
      assert.deepEqual(await l.get('alice'), second);
      assert.equal(await l.get('bob'), null);
    });
  });
}
