import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

// A full JID at the RFC 7622 maximum: three 1023-byte parts.
const LONG_FULL = `${'l'.repeat(1023)}@${'d'.repeat(1023)}/${'r'.repeat(1023)}`;

for (const type of DIALECTS) {
  describe(`blocklist repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('add is idempotent, list is sorted, remove takes some or all', async () => {
      const b = db.storage.blocklist;
      assert.deepEqual(await b.list('alice'), []);
      await b.add('alice', ['spam@example.com', 'example.net', 'x@example.com/phone', 'spam@example.com']);
      await b.add('alice', ['spam@example.com', 'Spam@example.com', 'ñandú@example.com']);
      await b.add('alice', []);
      await b.add('bob', ['spam@example.com']);
      assert.deepEqual(await b.list('alice'), ['Spam@example.com', 'example.net', 'spam@example.com', 'x@example.com/phone', 'ñandú@example.com']);

      await b.remove('alice', ['spam@example.com', 'not-there@example.com']);
      assert.deepEqual(await b.list('alice'), ['Spam@example.com', 'example.net', 'x@example.com/phone', 'ñandú@example.com']);
      await b.remove('alice', []);
      assert.deepEqual(await b.list('alice'), []);
      assert.deepEqual(await b.list('bob'), ['spam@example.com']);
    });

    test('a list longer than one statement can carry', async () => {
      const b = db.storage.blocklist;
      const many = Array.from({ length: 1100 }, (_, i) => `u${String(i).padStart(4, '0')}@example.org`);
      await b.add('dave', many);
      assert.deepEqual(await b.list('dave'), many);
      await b.remove('dave', many.slice(0, 1050));
      assert.deepEqual(await b.list('dave'), many.slice(1050));
    });

    test('maximum-length full JIDs', async () => {
      const b = db.storage.blocklist;
      const near = LONG_FULL.slice(0, -1) + 's';
      await b.add('carol', [LONG_FULL, near]);
      assert.deepEqual(await b.list('carol'), [LONG_FULL, near]);
      await b.remove('carol', [LONG_FULL]);
      assert.deepEqual(await b.list('carol'), [near]);
    });
  });
}
