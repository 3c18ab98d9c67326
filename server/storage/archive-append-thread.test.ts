import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { DIALECTS, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { setLogLevel } from '../log.ts';
import type { ArchiveEntry } from './types.ts';

setLogLevel('error');

function rows(owner: string, from: number, n: number): ArchiveEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    owner,
    id: `${owner}-${from + i}`,
    with: 'bob@localhost',
    withResource: null,
    outgoing: true,
    at: new Date(Date.UTC(2026, 0, 1) + from + i),
    stanza: `<message xmlns="jabber:client"><body>${from + i}</body></message>`,
  }));
}

/** The thread behind a storage's archive, to stop it as a crash would. */
function appendThread(t: TestStorage): { worker: Worker | undefined } {
  return (t.storage.archive as unknown as { appender: { worker: Worker | undefined } }).appender;
}

for (const type of DIALECTS) {
  describe(`archive appends in their own thread (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('rows appended by the thread are read on the node\'s own connection, in order', async () => {
      const { archive } = db.storage;
      await archive.append(rows('ann', 0, 1500)); // more than one INSERT's chunk
      await archive.append(rows('ann', 1500, 10));
      assert.ok(appendThread(db).worker, 'the appends ran in the thread');
      const last = await archive.page('ann', {}, 20, true);
      assert.deepEqual(last.map((m) => m.id), Array.from({ length: 20 }, (_, i) => `ann-${1509 - i}`));
      assert.equal(await archive.count('ann', {}, 10_000), 1510);
    });

    test('the node\'s transactions that read and then write are not failed by the thread\'s commits', async () => {
      const { archive, knex, properties } = db.storage;
      const writes: Promise<void>[] = [];
      for (let b = 0; b < 40; b++) writes.push(archive.append(rows('bea', b * 50, 50)));
      // Each of these reads and then writes in one transaction while the thread commits.
      const mine: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        mine.push(knex.transaction(async (trx) => {
          await trx('properties').where({ name: 'test.counter' }).first();
          await new Promise((resolve) => setImmediate(resolve));
          await trx('properties').insert({ name: `test.p${i}`, value: String(i), updated_at: new Date() });
        }));
      }
      await Promise.all([...writes, ...mine]);
      assert.equal(await archive.count('bea', {}, 10_000), 2000);
      assert.equal((await properties.all()).filter((p) => p.name.startsWith('test.p')).length, 40);
    });

    test('a thread that dies fails what it had not confirmed; the next rows start another', async () => {
      const { archive } = db.storage;
      await archive.append(rows('cat', 0, 1));
      const first = appendThread(db).worker!;
      const inFlight = archive.append(rows('cat', 1, 1000));
      await first.terminate();
      await assert.rejects(inFlight, /archive append thread exited/);
      await archive.append(rows('cat', 5000, 3));
      const second = appendThread(db).worker;
      assert.ok(second && second !== first, 'a new thread was started');
      const ids = (await archive.page('cat', {}, 5000, false)).map((m) => m.id);
      // The batch in flight was either written whole or not at all; the ones around it were.
      assert.equal(ids[0], 'cat-0');
      assert.deepEqual(ids.slice(-3), ['cat-5000', 'cat-5001', 'cat-5002']);
      assert.ok(ids.length === 4 || ids.length === 1004, `${ids.length} rows`);
    });
  });
}
