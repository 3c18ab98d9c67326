import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIALECTS, mysqlAdminUrl, openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { Logger, setLogLevel } from '../log.ts';
import { redactUrl } from './connection.ts';
import { openStorage } from './database.ts';
import { DatabaseUnavailableError } from './errors.ts';

setLogLevel('error');
const log = new Logger('test');

describe('opening a database', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xmppd-open-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a SQLite database gets its folder, WAL with a longer checkpoint interval, foreign keys and a busy timeout', async () => {
    const path = join(dir, 'nested', 'deeper', 'xmppd.sqlite');
    const storage = await openStorage({ type: 'sqlite', path }, log, { migrate: true });
    try {
      assert.equal(storage.dialect, 'sqlite');
      const pragma = async (name: string) => Object.values((await storage.knex.raw(`PRAGMA ${name}`))[0])[0];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('busy_timeout'), 5000);
      assert.equal(await pragma('wal_autocheckpoint'), 10000);
      assert.equal(await storage.ping(), true);
    } finally {
      await storage.close();
    }
    // Reopening a migrated database needs no migration step.
    const again = await openStorage({ type: 'sqlite', path }, log);
    assert.equal(await again.ping(), true);
    await again.close();
  });

  test('an in-memory SQLite database lives as long as the storage', async () => {
    const storage = await openStorage({ type: 'sqlite', path: ':memory:' }, log, { migrate: true });
    try {
      await storage.vcards.set('alice', '<vCard xmlns="vcard-temp"/>');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await storage.vcards.get('alice'), '<vCard xmlns="vcard-temp"/>');
    } finally {
      await storage.close();
    }
  });

  test('a SQLite path that cannot be a database is named in the error', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    await assert.rejects(openStorage({ type: 'sqlite', path: join(blocker, 'xmppd.sqlite') }, log), (err: unknown) => {
      assert.ok(err instanceof DatabaseUnavailableError);
      assert.equal(err.code, 'DATABASE_UNAVAILABLE');
      assert.match(err.message, new RegExp(`SQLite database ${join(blocker, 'xmppd.sqlite')}`));
      return true;
    });
  });

  test('an unreachable MySQL server is named, without its password', async () => {
    const url = 'mysql://xmppd:s3cret-pw@127.0.0.1:1/xmppd';
    await assert.rejects(openStorage({ type: 'mysql', url }, log), (err: unknown) => {
      assert.ok(err instanceof DatabaseUnavailableError);
      assert.match(err.message, /MySQL database mysql:\/\/xmppd:\*\*\*@127\.0\.0\.1:1\/xmppd/);
      assert.match(err.message, /ECONNREFUSED/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  test('a missing MySQL database says how to create it', async () => {
    const url = new URL(mysqlAdminUrl);
    url.pathname = '/xmppd_no_such_database';
    await assert.rejects(openStorage({ type: 'mysql', url: url.toString() }, log), (err: unknown) => {
      assert.ok(err instanceof DatabaseUnavailableError);
      assert.match(err.message, /xmppd_no_such_database/);
      assert.match(err.message, /CREATE DATABASE/);
      return true;
    });
  });

  test('a malformed MySQL url is refused before connecting', async () => {
    for (const url of ['not a url', 'postgres://u:pw@h/db', 'mysql://u:pw@127.0.0.1:3306/']) {
      await assert.rejects(openStorage({ type: 'mysql', url }, log), (err: unknown) => {
        assert.ok(err instanceof DatabaseUnavailableError);
        assert.doesNotMatch(err.message, /:pw@/);
        return true;
      });
    }
  });

  test('redactUrl masks only the password', () => {
    assert.equal(redactUrl('mysql://root:hunter2@db.example:3307/xmppd'), 'mysql://root:***@db.example:3307/xmppd');
    assert.equal(redactUrl('mysql://root@127.0.0.1:3306/xmppd'), 'mysql://root@127.0.0.1:3306/xmppd');
  });
});

for (const type of DIALECTS) {
  describe(`dates and text round-trip (${type})`, () => {
    let db: TestStorage;
    before(async () => {
      db = await openTestStorage(type);
    });
    after(() => db.close());

    test('an instant comes back as the same Date whatever the process time zone', async () => {
      const saved = process.env.TZ;
      process.env.TZ = 'America/St_Johns'; // UTC-03:30 or -02:30: not a whole-hour offset
      try {
        const at = new Date('2026-01-02T03:04:05.678Z');
        await db.storage.lastActivity.set('tz', { at, status: '' });
        const back = await db.storage.lastActivity.get('tz');
        assert.ok(back?.at instanceof Date);
        assert.equal(back.at.toISOString(), at.toISOString());
        if (type === 'mysql') {
          // Stored as UTC, so every node reads the same instant whatever its zone.
          const [rows] = await db.storage.knex.raw('SELECT CAST(`at` AS CHAR) AS s FROM last_activity');
          assert.equal(rows[0].s, '2026-01-02 03:04:05.678');
        }
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    });

    test('text is stored exactly: case, accents and characters outside the BMP', async () => {
      const names = ['straße', 'strasse', 'Straße', 'ωμέγα', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '😀'];
      for (const n of names) await db.storage.vcards.set(n, `<vCard xmlns="vcard-temp"><FN>${n}</FN></vCard>`);
      for (const n of names) assert.equal(await db.storage.vcards.get(n), `<vCard xmlns="vcard-temp"><FN>${n}</FN></vCard>`);
    });
  });
}
