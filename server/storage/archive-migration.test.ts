// Migration 0010 on an archive written under 0007: every row keeps its archive, id,
// position, contact and text, and the repository reads and extends the archive after it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/test-database.ts';
import { Logger, setLogLevel } from '../log.ts';
import { keyOf } from './columns.ts';
import { connect } from './connection.ts';
import { coreMigrations, openStorage } from './database.ts';
import { migrate } from './migrator.ts';

setLogLevel('warn');

const BEFORE = '0010-archive-numbers';
const at = Date.parse('2026-01-01T00:00:00.000Z');

/** A folder with the core migrations that came before 0010. */
async function migrationsBefore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xmppd-migrations-'));
  for (const name of ['0001-core', '0002-secrets', '0003-offline-message-bytes', '0004-auth-failures', '0005-served-domain', '0006-account-deletions', '0007-message-archive', '0008-pep', '0009-muc']) {
    await symlink(join(coreMigrations.dir, `${name}.ts`), join(dir, `${name}.ts`));
  }
  return dir;
}

for (const type of DIALECTS) {
  describe(`archive migration ${BEFORE} (${type})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanup) await c();
    });

    test('moves every archived row to numbered archives, positions and ids kept', async () => {
      const db: TestDatabase = await createTestDatabase(type);
      cleanup.push(db.drop);
      const dir = await migrationsBefore();
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const quiet = new Logger('test');
      const { knex } = connect(db.config, quiet);
      try {
        await migrate(knex, { component: 'core', dir }, quiet);
        const old = (owner: string, seq: number, id: string, withJid: string, outgoing: boolean) => ({
          owner_key: keyOf(owner), seq, id, owner, with_key: keyOf(withJid), with_jid: withJid, with_resource: 'phone', outgoing,
          created_at: type === 'mysql' ? new Date(at + seq * 1000) : at + seq * 1000,
          stanza: `<message xmlns="jabber:client" id="m${seq}"><body>ü ${seq}</body></message>`,
        });
        await knex('mam_messages').insert([
          old('alice', 3, 'a-3', 'bob@localhost', true),
          old('bob', 4, 'b-4', 'alice@localhost', false),
          old('alice', 7, 'a-7', 'carol@localhost', false),
          old('room@conference.localhost', 9, 'r-9', 'room@conference.localhost', false),
        ]);
      } finally {
        await knex.destroy();
      }

      const storage = await openStorage(db.config, quiet, { migrate: true });
      try {
        assert.equal(await storage.knex.schema.hasTable('mam_messages'), false);
        const { archive } = storage;
        const alice = await archive.page('alice', {}, 10, false);
        assert.deepEqual(alice.map((m) => [m.seq, m.id, m.with, m.withResource, m.outgoing, m.at.getTime()]), [
          [3, 'a-3', 'bob@localhost', 'phone', true, at + 3000],
          [7, 'a-7', 'carol@localhost', 'phone', false, at + 7000],
        ]);
        assert.equal(alice[1]!.stanza, '<message xmlns="jabber:client" id="m7"><body>ü 7</body></message>');
        assert.equal(await archive.position('bob', 'b-4'), 4);
        assert.equal(await archive.position('alice', 'b-4'), null, 'ids stay per archive');
        assert.deepEqual((await archive.page('alice', { with: { bare: 'carol@localhost' } }, 10, false)).map((m) => m.id), ['a-7']);
        assert.deepEqual((await archive.page('room@conference.localhost', {}, 10, false)).map((m) => m.id), ['r-9']);

        // New rows come after the moved ones, in the same archives.
        await archive.append([{ owner: 'alice', id: 'a-new', with: 'bob@localhost', withResource: null, outgoing: true, at: new Date(at + 10_000), stanza: '<message/>' }]);
        const last = await archive.page('alice', {}, 1, true);
        assert.equal(last[0]!.id, 'a-new');
        assert.ok(last[0]!.seq > 9, `position ${last[0]!.seq} after the moved rows`);
        assert.equal(await archive.count('alice', { with: { bare: 'bob@localhost' } }, 10), 2);
      } finally {
        await storage.close();
      }
    });
  });
}
