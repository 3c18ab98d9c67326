import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';
import type { RosterItem } from './types.ts';

setLogLevel('warn');

function item(jid: string, fields: Partial<RosterItem> = {}): RosterItem {
  return { jid, name: null, subscription: 'none', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [], ...fields };
}

// The longest JIDs RFC 7622 allows: 1023-byte parts.
const LONG_BARE = `${'l'.repeat(1023)}@${'d'.repeat(1023)}`;
const LONG_MULTIBYTE = `${'ü'.repeat(511)}l@${'d'.repeat(1023)}`;

for (const type of DIALECTS) {
  describe(`roster repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('an empty roster has version "0"', async () => {
      assert.deepEqual(await db.storage.roster.list('alice'), []);
      assert.equal(await db.storage.roster.version('alice'), '0');
      assert.equal(await db.storage.roster.get('alice', 'bob@example.com'), null);
    });

    test('put stores every field and raises the version', async () => {
      const { roster } = db.storage;
      const bob = item('bob@example.com', {
        name: 'Bób 🐝',
        subscription: 'from',
        askOut: true,
        askIn: true,
        askInStanza: '<presence from="bob@example.com" type="subscribe"><status>hi ✓</status></presence>',
        approved: true,
        groups: ['Friends', 'Коллеги', ''],
      });
      assert.equal(await roster.put('alice', bob), '1');
      assert.deepEqual(await roster.get('alice', 'bob@example.com'), bob);
      assert.equal(await roster.put('alice', item('carol@example.com')), '2');
      assert.equal(await roster.version('alice'), '2');

      const replaced = item('bob@example.com', { subscription: 'both' });
      assert.equal(await roster.put('alice', replaced), '3');
      assert.deepEqual(await roster.get('alice', 'bob@example.com'), replaced);
      assert.deepEqual((await roster.list('alice')).map((i) => i.jid), ['bob@example.com', 'carol@example.com']);
    });

    test('remove raises the version only when something was removed', async () => {
      const { roster } = db.storage;
      assert.equal(await roster.remove('alice', 'carol@example.com'), '4');
      assert.equal(await roster.get('alice', 'carol@example.com'), null);
      assert.equal(await roster.remove('alice', 'carol@example.com'), '4');
      assert.equal(await roster.remove('nobody', 'carol@example.com'), '0');
    });

    test('rosters and versions are per user, and JIDs compare exactly', async () => {
      const { roster } = db.storage;
      assert.equal(await roster.put('dave', item('Bob@example.com')), '1');
      assert.equal(await roster.put('dave', item('bob@example.com')), '2');
      assert.equal(await roster.put('dave', item('straße@example.com')), '3');
      assert.equal(await roster.put('dave', item('strasse@example.com')), '4');
      assert.equal((await roster.list('dave')).length, 4);
      assert.equal(await roster.version('alice'), '4');
    });

    test('maximum-length JIDs', async () => {
      const { roster } = db.storage;
      await roster.put('erin', item(LONG_BARE, { name: 'n'.repeat(5000) }));
      await roster.put('erin', item(LONG_MULTIBYTE));
      await roster.put('erin', item(LONG_BARE.slice(0, -1) + 'e')); // differs only at the end
      assert.equal((await roster.get('erin', LONG_BARE))?.name, 'n'.repeat(5000));
      assert.equal((await roster.get('erin', LONG_MULTIBYTE))?.jid, LONG_MULTIBYTE);
      assert.equal((await roster.list('erin')).length, 3);
    });

    test('concurrent changes to one roster get distinct versions', async () => {
      const { roster } = db.storage;
      const versions = await Promise.all(Array.from({ length: 20 }, (_, i) => roster.put('frank', item(`c${i}@example.com`))));
      assert.deepEqual(versions.map(Number).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(await roster.version('frank'), '20');
    });

    test('writeIfVersion writes and removes only at the version given', async () => {
      const { roster } = db.storage;
      assert.equal(await roster.writeIfVersion('gina', '1', 'bob@example.com', item('bob@example.com')), null, 'no roster yet: only version 0 holds');
      assert.equal(await roster.writeIfVersion('gina', '0', 'bob@example.com', item('bob@example.com')), '1');
      assert.equal(await roster.writeIfVersion('gina', '0', 'bob@example.com', item('bob@example.com', { subscription: 'to' })), null);
      assert.equal((await roster.get('gina', 'bob@example.com'))?.subscription, 'none', 'the stale write changed nothing');
      assert.equal(await roster.writeIfVersion('gina', '1', 'bob@example.com', item('bob@example.com', { subscription: 'to' })), '2');
      assert.equal(await roster.writeIfVersion('gina', '1', 'bob@example.com', null), null);
      assert.equal(await roster.writeIfVersion('gina', '2', 'bob@example.com', null), '3');
      assert.equal(await roster.get('gina', 'bob@example.com'), null);
      assert.equal(await roster.version('gina'), '3');
    });

    test('of concurrent writes at one version, exactly one lands', async () => {
      const { roster } = db.storage;
      for (const at of ['0', '1']) {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => roster.writeIfVersion('hank', at, 'bob@example.com', item('bob@example.com', { name: `w${i}` }))));
        assert.deepEqual(results.filter((r) => r !== null), [String(Number(at) + 1)]);
        const winner = results.findIndex((r) => r !== null);
        assert.equal((await roster.get('hank', 'bob@example.com'))?.name, `w${winner}`);
      }
    });
  });
}
