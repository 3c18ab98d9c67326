import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

for (const type of DIALECTS) {
  describe(`private XML repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
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
  });
}
