import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/test-database.ts';
import { Logger, setLogLevel, type LogFields } from '../log.ts';
import { connect } from './connection.ts';
import { coreMigrations, openStorage } from './database.ts';
import { PendingMigrationsError, SchemaTooNewError } from './errors.ts';
import { checkSchema, migrate, schemaStatus } from './migrator.ts';

setLogLevel('warn');

class CaptureLogger extends Logger {
  readonly lines: string[] = [];
  override info(msg: string, fields?: LogFields): void {
    this.lines.push(`${msg} ${fields?.component}/${fields?.name}`);
  }
}

const CORE_TABLES = ['users', 'roster_items', 'roster_versions', 'offline_messages', 'private_xml', 'vcards', 'blocklist', 'last_activity', 'properties', 'property_changes', 'secrets', 'auth_failures', 'served_domain', 'account_deletions', 'muc_rooms', 'muc_affiliations', 'mam_names', 'mam_entries', 'mam_prefs'];
/** The core migrations, in the order they apply. */
const CORE = ['0001-core', '0002-secrets', '0003-offline-message-bytes', '0004-auth-failures', '0005-served-domain', '0006-account-deletions',
  '0007-message-archive', '0008-pep', '0009-muc', '0010-archive-numbers', '0011-muc-vcard'];

for (const type of DIALECTS) {
  describe(`migrator (${type})`, () => {
    const dbs: TestDatabase[] = [];
    let pluginDir: string;
    const fresh = async () => {
      const db = await createTestDatabase(type);
      dbs.push(db);
      return db;
    };
    const quiet = new Logger('test');

    before(async () => {
      pluginDir = await mkdtemp(join(tmpdir(), 'xmppd-migrations-'));
    });
    after(async () => {
      await Promise.all(dbs.map((d) => d.drop()));
      await rm(pluginDir, { recursive: true, force: true });
    });

    test('applies the core migrations from scratch, logging each, then does nothing', async () => {
      const { knex } = connect((await fresh()).config, quiet);
      try {
        assert.deepEqual(await schemaStatus(knex, coreMigrations), { component: 'core', applied: [], pending: CORE, unknown: [] });
        const log = new CaptureLogger('test');
        assert.deepEqual(await migrate(knex, coreMigrations, log), CORE);
        assert.deepEqual(log.lines, CORE.flatMap((name) => [`applying migration core/${name}`, `applied migration core/${name}`]));
        for (const table of CORE_TABLES) assert.ok(await knex.schema.hasTable(table), `table ${table}`);
        assert.deepEqual(await schemaStatus(knex, coreMigrations), { component: 'core', applied: CORE, pending: [], unknown: [] });

        assert.deepEqual(await migrate(knex, coreMigrations, quiet), []);
        await checkSchema(knex, coreMigrations);
        const rows = await knex('schema_migrations').select('component', 'name', 'applied_at');
        assert.equal(rows.length, CORE.length);
      } finally {
        await knex.destroy();
      }
    });

    test('concurrent runners apply each migration once', async () => {
      const { config } = await fresh();
      const a = connect(config, quiet);
      const b = connect(config, quiet);
      try {
        const [ra, rb] = await Promise.all([migrate(a.knex, coreMigrations, quiet), migrate(b.knex, coreMigrations, quiet)]);
        assert.deepEqual([...ra, ...rb].sort(), CORE);
      } finally {
        await Promise.all([a.knex.destroy(), b.knex.destroy()]);
      }
    });

    test('opening without migrate refuses pending migrations and names the command', async () => {
      const { config } = await fresh();
      await assert.rejects(openStorage(config, quiet), (err: unknown) => {
        assert.ok(err instanceof PendingMigrationsError);
        assert.deepEqual(err.pending, CORE);
        assert.match(err.message, /core\/0001-core/);
        assert.match(err.message, /xmppd migrate/);
        return true;
      });
      // Checking created nothing.
      const { knex } = connect(config, quiet);
      try {
        assert.equal(await knex.schema.hasTable('schema_migrations'), false);
      } finally {
        await knex.destroy();
      }
    });

    test('refuses a database that knows a migration this code does not', async () => {
      const { config } = await fresh();
      await (await openStorage(config, quiet, { migrate: true })).close();
      const { knex } = connect(config, quiet);
      try {
        await knex('schema_migrations').insert({ component: 'core', name: '9999-from-the-future', applied_at: new Date() });
        const tooNew = (err: unknown) => {
          assert.ok(err instanceof SchemaTooNewError);
          assert.equal(err.message, 'database schema is newer than this server (unknown migration core/9999-from-the-future); upgrade the server');
          return true;
        };
        await assert.rejects(openStorage(config, quiet), tooNew);
        await assert.rejects(openStorage(config, quiet, { migrate: true }), tooNew);
        await assert.rejects(migrate(knex, coreMigrations, quiet), tooNew);
        // Another component's migrations are not the core's business.
        await knex('schema_migrations').where({ name: '9999-from-the-future' }).update({ component: 'some-plugin' });
        const storage = await openStorage(config, quiet);
        assert.equal(await storage.ping(), true);
        await storage.close();
      } finally {
        await knex.destroy();
      }
    });

    test('a plugin migrates its own component from its own folder', async () => {
      const dir = join(pluginDir, `widgets-${type}`);
      await mkdir(dir);
      await writeFile(join(dir, '0001-widgets.ts'), `
        import type { Knex } from 'knex';
        export async function up(knex: Knex): Promise<void> {
          await knex.schema.createTable('widgets', (t) => { t.integer('id').primary(); t.string('label', 50); });
        }
      `);
      await writeFile(join(dir, 'README.md'), 'not a migration');
      const source = { component: 'widgets', dir };
      const { config } = await fresh();
      const { knex } = connect(config, quiet);
      try {
        await migrate(knex, coreMigrations, quiet);
        assert.deepEqual(await migrate(knex, source, quiet), ['0001-widgets']);
        await knex('widgets').insert({ id: 1, label: 'one' });

        await writeFile(join(dir, '0002-widget-colour.js'), `
          export async function up(knex) {
            await knex.schema.alterTable('widgets', (t) => { t.string('colour', 20); });
          }
        `);
        assert.deepEqual((await schemaStatus(knex, source)).pending, ['0002-widget-colour']);
        await assert.rejects(checkSchema(knex, source), PendingMigrationsError);
        await checkSchema(knex, coreMigrations);
        assert.deepEqual(await migrate(knex, source, quiet), ['0002-widget-colour']);
        assert.deepEqual(await knex('widgets').select('id', 'label', 'colour'), [{ id: 1, label: 'one', colour: null }]);
      } finally {
        await knex.destroy();
      }
    });

    test('a failing migration is not recorded', async () => {
      const dir = await mkdtemp(join(pluginDir, `broken-${type}-`));
      await writeFile(join(dir, '0001-broken.ts'), `
        export async function up(knex: any): Promise<void> {
          await knex.schema.createTable('half_done', (t: any) => { t.integer('id'); });
          throw new Error('boom');
        }
      `);
      const source = { component: 'broken', dir };
      const { config } = await fresh();
      const { knex } = connect(config, quiet);
      try {
        await assert.rejects(migrate(knex, source, quiet), /migration broken\/0001-broken failed: boom/);
        assert.deepEqual((await schemaStatus(knex, source)).pending, ['0001-broken']);
        // SQLite rolls the DDL back; MySQL commits DDL as it goes (see migrator.ts).
        assert.equal(await knex.schema.hasTable('half_done'), type === 'mysql');
      } finally {
        await knex.destroy();
      }
    });
  });
}
