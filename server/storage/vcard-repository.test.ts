import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

for (const type of DIALECTS) {
  describe(`vCard repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('get, set and replace', async () => {
      const v = db.storage.vcards;
      assert.equal(await v.get('alice'), null);
      await v.set('alice', '<vCard xmlns="vcard-temp"><FN>Алиса</FN></vCard>');
      await v.set('bob', '<vCard xmlns="vcard-temp"><FN>Bob</FN></vCard>');
      assert.equal(await v.get('alice'), '<vCard xmlns="vcard-temp"><FN>Алиса</FN></vCard>');
      await v.set('alice', '<vCard xmlns="vcard-temp"/>');
      assert.equal(await v.get('alice'), '<vCard xmlns="vcard-temp"/>');
      assert.equal(await v.get('bob'), '<vCard xmlns="vcard-temp"><FN>Bob</FN></vCard>');
    });

    test('a vCard with a photo larger than MySQL TEXT', async () => {
      const photo = Buffer.alloc(150_000, 7).toString('base64');
      const xml = `<vCard xmlns="vcard-temp"><PHOTO><TYPE>image/png</TYPE><BINVAL>${photo}</BINVAL></PHOTO></vCard>`;
      await db.storage.vcards.set('carol', xml);
      assert.equal(await db.storage.vcards.get('carol'), xml);
    });
  });
}
