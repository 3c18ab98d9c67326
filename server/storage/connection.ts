// How knex reaches each dialect, and how a database is named in messages (never with its
// password).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import knex, { type Knex } from 'knex';
import type { DatabaseConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { DatabaseUnavailableError } from './errors.ts';

export interface Connection {
  knex: Knex;
  dialect: 'sqlite' | 'mysql';
  /** The database as it may be shown to an operator. */
  target: string;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Pinned per connection so behaviour does not depend on the server's configuration:
 * oversize values are errors (never silent truncation), the session zone is UTC, and
 * ORDER BY looks at whole JIDs (12284 bytes at most) rather than the first 1024 bytes.
 */
const MYSQL_SESSION =
  "SET time_zone = '+00:00', max_sort_length = 16384, " +
  "sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database url)';
  }
}

/** Builds the knex instance; nothing is opened until the first query. */
export function connect(config: DatabaseConfig, log: Logger): Connection {
  return config.type === 'sqlite' ? sqlite(config.path, knexLog(log)) : mysql(config.url, knexLog(log));
}

/**
 * knex's own warnings go to our log as one line each (its messages may carry stacks). A
 * failure to get a connection is rethrown to the query that asked, whose caller reports it
 * (the start's one error line, the health monitor's pause): knex's warning about it would
 * say the same twice, so it is kept for debugging.
 */
function knexLog(log: Logger): Knex.Logger {
  const line = (m: unknown) => String(m instanceof Error ? m.message : m).split('\n')[0]!;
  return {
    warn: (m) => {
      const text = line(m);
      if (text.startsWith('Acquire connection error')) log.debug(text);
      else log.warn(text);
    },
    error: (m) => log.error(line(m)),
    deprecate: (method, alternative) => log.warn(`knex: ${method} is deprecated, use ${alternative}`),
    debug: (m) => log.debug(line(m)),
  };
}

/**
 * knex's better-sqlite3 client with every transaction begun IMMEDIATE, holding the write
 * lock from its first statement. A DEFERRED transaction (knex's BEGIN) that reads and then
 * writes fails at once with SQLITE_BUSY, busy timeout or not, when another connection
 * committed in between: and another connection does, the message archive's appender
 * (archive-append-thread.ts) or an `xmppd` command. IMMEDIATE waits for the lock instead.
 */
function immediateClient(): typeof Knex.Client {
  const require = createRequire(import.meta.url);
  const BetterSqlite3 = require('knex/lib/dialects/better-sqlite3/index.js') as typeof Knex.Client;
  return class ImmediateSqlite extends BetterSqlite3 {
    override transaction(...args: unknown[]): Knex.Transaction {
      const trx = (super.transaction as (...a: unknown[]) => Knex.Transaction & { begin(conn: unknown): unknown; query(conn: unknown, sql: string): unknown })(...args);
      trx.begin = (conn: unknown) => trx.query(conn, 'BEGIN IMMEDIATE;');
      return trx;
    }
  };
}

function sqlite(path: string, log: Knex.Logger): Connection {
  const filename = path === ':memory:' ? path : resolve(path);
  const target = `SQLite database ${filename}`;
  if (filename !== ':memory:') {
    try {
      mkdirSync(dirname(filename), { recursive: true });
    } catch (err) {
      throw new DatabaseUnavailableError(`cannot create the folder of the ${target}: ${(err as Error).message}`, { cause: err });
    }
  }
  const k = knex({
    client: immediateClient(),
    connection: { filename },
    useNullAsDefault: true,
    log,
    // One connection: better-sqlite3 is synchronous, so more would only contend for the
    // file lock; it also makes every transaction exclusive within this process.
    pool: {
      min: 1,
      max: 1,
      afterCreate(db: { pragma(s: string): unknown }, done: (err: Error | null, db: unknown) => void) {
        try {
          db.pragma('journal_mode = WAL'); // readers do not block the writer
          // With WAL, NORMAL keeps every commit across a process crash and syncs at
          // checkpoints only; a power loss may drop the last commits but never corrupts.
          db.pragma('synchronous = NORMAL');
          // A checkpoint copies every page the WAL changed back into the file, once however
          // often it changed, and syncs both, in the committing thread: ten times SQLite's default
          // interval (40 MB of WAL instead of 4) copies a busy index's pages a tenth as often
          // and took about 15 % off the CPU of an archived message (docs/performance.md).
          db.pragma('wal_autocheckpoint = 10000');
          db.pragma('foreign_keys = ON');
          db.pragma('busy_timeout = 5000'); // another process (the CLI) may hold the lock briefly
          done(null, db);
        } catch (err) {
          done(err as Error, db);
        }
      },
    },
  });
  return { knex: k, dialect: 'sqlite', target };
}

function mysql(url: string, log: Knex.Logger): Connection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DatabaseUnavailableError(`database url is not a URL: ${redactUrl(url)} (expected mysql://user:password@host:3306/name)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if ((u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') || !u.hostname || !database) {
    throw new DatabaseUnavailableError(`database url ${redactUrl(url)} is not of the form mysql://user:password@host:3306/name`);
  }
  const k = knex({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database,
      charset: 'utf8mb4',
      // DATETIME values are written and read as UTC, so a Date comes back as the same instant.
      timezone: 'Z',
      supportBigNumbers: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
    },
    acquireConnectionTimeout: CONNECT_TIMEOUT_MS,
    log,
    pool: {
      min: 0,
      max: 10,
      afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.query(MYSQL_SESSION, (err) => done(err, conn));
      },
    },
  });
  return { knex: k, dialect: 'mysql', target: `MySQL database ${redactUrl(url)}` };
}
