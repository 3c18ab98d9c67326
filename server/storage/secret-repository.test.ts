import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

for (const type of DIALECTS) {
  describe(`secret repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('the first value generated is kept; later callers get it and generate nothing that sticks', async () => {
      const s = db.storage.secrets;
      assert.equal(await s.getOrCreate('a', () => 'first'), 'first');
      assert.equal(await s.getOrCreate('a', () => 'second'), 'first');
      assert.equal(await s.getOrCreate('b', () => 'other'), 'other', 'names are independent');
    });

    test('callers racing for a new secret all get the same one', async () => {
      const s = db.storage.secrets;
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => s.getOrCreate('race', () => `value-${i}`)));
      assert.equal(new Set(got).size, 1, got.join(' '));
    });
  });
}
