// Fresh databases for tests, one of each dialect: a SQLite file in a temporary folder and a
// MariaDB/MySQL database of its own, so that runs never share state. MariaDB must be
// reachable: a missing dependency fails the test run instead of skipping it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../../scripts/scratch-database.ts';
import type { DatabaseConfig } from '../../server/config/types.ts';
import { Logger } from '../../server/log.ts';
import { openStorage } from '../../server/storage/database.ts';
import type { Storage } from '../../server/storage/types.ts';

/** Server-level URL (no database) of an account that may create and drop databases. */
export const mysqlAdminUrl = process.env.XMPPD_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/** The dialects every storage test runs on. */
export const DIALECTS: readonly DatabaseConfig['type'][] = ['sqlite', 'mysql'];

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

export interface TestDatabases {
  sqlite: DatabaseConfig;
  mysql: DatabaseConfig;
  /** Both, to run one suite per dialect. */
  all: DatabaseConfig[];
  drop(): Promise<void>;
}

export async function createTestDatabase(type: DatabaseConfig['type']): Promise<TestDatabase> {
  if (type === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'xmppd-test-'));
    return { config: { type: 'sqlite', path: join(dir, 'xmppd.sqlite') }, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const db = await createScratchDatabase(mysqlAdminUrl, 'xmppd_test', 'tests need MariaDB/MySQL at %s (set XMPPD_TEST_MYSQL_URL to use another)');
  return { config: { type: 'mysql', url: db.url }, drop: db.drop };
}

export async function createTestDatabases(): Promise<TestDatabases> {
  const sqlite = await createTestDatabase('sqlite');
  let my: TestDatabase;
  try {
    my = await createTestDatabase('mysql');
  } catch (err) {
    await sqlite.drop();
    throw err;
  }
  return {
    sqlite: sqlite.config,
    mysql: my.config,
    all: [sqlite.config, my.config],
    drop: async () => {
      await Promise.all([sqlite.drop(), my.drop()]);
    },
  };
}

export interface TestStorage {
  storage: Storage;
  config: DatabaseConfig;
  /** Closes the storage and drops its database. */
  close(): Promise<void>;
}

/** A migrated storage on a fresh database of the given dialect. */
export async function openTestStorage(type: DatabaseConfig['type']): Promise<TestStorage> {
  const db = await createTestDatabase(type);
  try {
    const storage = await openStorage(db.config, new Logger('test-storage'), { migrate: true });
    return {
      storage,
      config: db.config,
      close: async () => {
        await storage.close();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
}
