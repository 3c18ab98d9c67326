import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { FailureThrottle } from '../auth/failure-throttle.ts';
import { setLogLevel } from '../log.ts';

setLogLevel('warn');

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

for (const type of DIALECTS) {
  describe(`auth failure repository (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('records failures per key and reads those after an instant, oldest first, to the millisecond', async () => {
      const f = db.storage.authFailures;
      await f.record(['account:alice', 'address:203.0.113.5'], T0 + 2);
      await f.record(['account:alice'], T0 + 1);
      await f.record(['address:203.0.113.5'], T0 + 3);
      const recent = await f.recent(['account:alice', 'address:203.0.113.5', 'account:bob'], T0);
      assert.deepEqual(recent, new Map([['account:alice', [T0 + 1, T0 + 2]], ['address:203.0.113.5', [T0 + 2, T0 + 3]]]));
      assert.deepEqual(await f.recent(['account:alice'], T0 + 1), new Map([['account:alice', [T0 + 2]]]), '"after" is strict');
      assert.deepEqual(await f.recent([], 0), new Map());
    });

    test('clear removes a key\'s failures only; purge removes every failure up to an instant', async () => {
      const f = db.storage.authFailures;
      await f.record(['account:carol', 'address:198.51.100.1'], T0 + 10);
      await f.clear(['account:carol']);
      assert.deepEqual(await f.recent(['account:carol', 'address:198.51.100.1'], T0), new Map([['address:198.51.100.1', [T0 + 10]]]));
      await f.clear([]);

      await f.purge(T0 + 2);
      const left = await f.recent(['account:alice', 'address:203.0.113.5', 'address:198.51.100.1'], 0);
      assert.deepEqual(left, new Map([['address:203.0.113.5', [T0 + 3]], ['address:198.51.100.1', [T0 + 10]]]));
      const rows = await db.storage.knex('auth_failures').count({ n: '*' }).first();
      assert.equal(Number(rows!.n), 2, 'purged rows are gone from the table, not only from reads');
    });

    test('keys of any length and any characters are kept apart exactly', async () => {
      const f = db.storage.authFailures;
      const long = `account:${'ü'.repeat(1023)}`;
      const names = [long, 'account:Dave', 'account:dave', 'account:dave ', 'address:2001:db8:1:2::/64'];
      for (const [i, name] of names.entries()) await f.record([name], T0 + 100 + i);
      const recent = await f.recent(names, T0 + 99);
      assert.deepEqual(recent, new Map(names.map((name, i) => [name, [T0 + 100 + i]])));
      const stored = await db.storage.knex('auth_failures').where('failed_at', '>', new Date(T0 + 99)).orderBy('failed_at').pluck('subject');
      assert.deepEqual(stored, names, 'the key is stored in full beside its hash');
    });

    test('as a throttle store: two nodes share the counts, and parallel failures all count', async () => {
      const now = T0 + 1000;
      const windowSeconds = () => 60;
      const nodeA = new FailureThrottle(db.storage.authFailures, windowSeconds, () => now);
      const nodeB = new FailureThrottle(db.storage.authFailures, windowSeconds, () => now);
      const keys = [{ name: 'account:erin', maxFailures: 10 }, { name: 'address:192.0.2.9', maxFailures: 0 }];
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? nodeA : nodeB).failed(keys)));
      const verdict = await nodeA.check(keys);
      assert.deepEqual(verdict, { retryAfter: 60, blocked: ['account:erin'], failing: ['account:erin'] });
      assert.deepEqual(await db.storage.authFailures.recent(['address:192.0.2.9'], 0), new Map(), 'a key without a limit is not counted');
      await nodeB.succeeded(verdict.failing);
      assert.equal((await nodeA.check(keys)).retryAfter, 0, 'a success on one node frees the account on the other');
    });
  });
}
