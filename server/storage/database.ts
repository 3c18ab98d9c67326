// Opens the configured database, checks (or brings up to date) the core schema, and hands
// out the repositories.
import { fileURLToPath } from 'node:url';
import type { DatabaseConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { SqlAccountDeletionRepository } from './account-deletion-repository.ts';
import { ArchiveAppendThread } from './archive-append-thread.ts';
import { SqlArchiveRepository } from './archive-repository.ts';
import { SqlAuthFailureRepository } from './auth-failure-repository.ts';
import { SqlBlocklistRepository } from './blocklist-repository.ts';
import { SqlCapsRepository } from './caps-repository.ts';
import { connect, type Connection } from './connection.ts';
import { DatabaseUnavailableError } from './errors.ts';
import { SqlLastActivityRepository } from './last-activity-repository.ts';
import { checkSchema, migrate, type MigrationSource } from './migrator.ts';
import { SqlMucRepository } from './muc-repository.ts';
import { SqlOfflineRepository } from './offline-repository.ts';
import { SqlPepRepository } from './pep-repository.ts';
import { SqlPrivateRepository } from './private-repository.ts';
import { SqlPropertyRepository } from './property-repository.ts';
import { SqlRosterRepository } from './roster-repository.ts';
import { SqlSecretRepository } from './secret-repository.ts';
import { SqlServedDomainRepository } from './served-domain.ts';
import type { Storage } from './types.ts';
import { SqlUserRepository } from './users-repository.ts';
import { SqlVcardRepository } from './vcard-repository.ts';

export const coreMigrations: MigrationSource = {
  component: 'core',
  dir: fileURLToPath(new URL('../../migrations/', import.meta.url)),
};

export interface OpenOptions {
  /**
   * Apply pending core migrations (the `xmppd migrate` step). When false, the default, a
   * database with pending migrations is refused with PendingMigrationsError.
   */
  migrate?: boolean;
}

const MYSQL_HINTS: Record<string, string> = {
  ER_BAD_DB_ERROR: 'the database does not exist; create it with CREATE DATABASE <name> CHARACTER SET utf8mb4',
  ECONNREFUSED: 'nothing listens there; is the server running?',
};

export async function openStorage(config: DatabaseConfig, log: Logger, opts: OpenOptions = {}): Promise<Storage> {
  const conn = connect(config, log);
  try {
    await conn.knex.raw('select 1');
  } catch (err) {
    await conn.knex.destroy();
    const hint = MYSQL_HINTS[(err as { code?: string }).code ?? ''];
    throw new DatabaseUnavailableError(`cannot open the ${conn.target}: ${(err as Error).message}${hint ? ` (${hint})` : ''}`, { cause: err });
  }
  try {
    if (opts.migrate) await migrate(conn.knex, coreMigrations, log);
    else await checkSchema(conn.knex, coreMigrations);
  } catch (err) {
    await conn.knex.destroy();
    throw err;
  }
  log.info('database open', { target: conn.target });
  // Archive rows are appended off the event loop; an in-memory SQLite database is its one
  // connection's alone, so there the archive appends over the node's own.
  const inMemory = config.type === 'sqlite' && config.path === ':memory:';
  return createStorage(conn, inMemory ? undefined : new ArchiveAppendThread(config, log.child('archive')));
}

function createStorage({ knex, dialect }: Connection, appender: ArchiveAppendThread | undefined): Storage {
  return {
    knex,
    dialect,
    users: new SqlUserRepository(knex),
    roster: new SqlRosterRepository(knex),
    offline: new SqlOfflineRepository(knex),
    privateXml: new SqlPrivateRepository(knex),
    vcards: new SqlVcardRepository(knex),
    blocklist: new SqlBlocklistRepository(knex),
    lastActivity: new SqlLastActivityRepository(knex),
    archive: new SqlArchiveRepository(knex, appender),
    pep: new SqlPepRepository(knex),
    caps: new SqlCapsRepository(knex),
    muc: new SqlMucRepository(knex),
    properties: new SqlPropertyRepository(knex),
    secrets: new SqlSecretRepository(knex),
    authFailures: new SqlAuthFailureRepository(knex),
    servedDomain: new SqlServedDomainRepository(knex),
    accountDeletions: new SqlAccountDeletionRepository(knex),
    async ping() {
      try {
        await knex.raw('select 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await appender?.close();
      await knex.destroy();
    },
  };
}
