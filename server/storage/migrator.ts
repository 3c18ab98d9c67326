// Versioned schema changes, per component: the core owns migrations/, each plugin passes its
// own name and folder. A migration is a module named `NNNN-description.ts` (or .js)
// exporting `up(knex)`; the table `schema_migrations` records which ones a database has.
// Our own runner rather than knex's, so that what happens is spelled out here: pending
// migrations run in name order, one at a time, each logged, and a database that knows a
// migration this code does not is refused rather than written to.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Logger } from '../log.ts';
import { isUniqueViolation, PendingMigrationsError, SchemaTooNewError } from './errors.ts';

export interface MigrationSource {
  /** 'core' for migrations/, the plugin's name for a plugin's tables. */
  component: string;
  /** Absolute path of the folder holding the migration modules. */
  dir: string;
}

export interface SchemaStatus {
  component: string;
  /** Recorded in the database and known to this code. */
  applied: string[];
  /** Known to this code, not yet applied. */
  pending: string[];
  /** Recorded in the database but unknown to this code: the database is newer. */
  unknown: string[];
}

interface MigrationModule {
  up(knex: Knex): Promise<void>;
}

const TABLE = 'schema_migrations';
const FILE = /^(\d{4}-[a-z0-9][a-z0-9-]*)\.(ts|js)$/;
const LOCK_WAIT_SECONDS = 60;

/** Migration names (file names without extension) found in `dir`, mapped to their paths. */
async function available(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of (await readdir(dir)).sort()) {
    const m = FILE.exec(file);
    if (!m) continue;
    if (found.has(m[1])) throw new Error(`migration ${m[1]} exists twice in ${dir}`);
    found.set(m[1], join(dir, file));
  }
  return found;
}

async function appliedNames(knex: Knex, component: string): Promise<string[]> {
  if (!(await knex.schema.hasTable(TABLE))) return [];
  const rows: { name: string }[] = await knex(TABLE).where({ component }).select('name');
  return rows.map((r) => r.name);
}

async function status(knex: Knex, source: MigrationSource, known: Map<string, string>): Promise<SchemaStatus> {
  const applied = new Set(await appliedNames(knex, source.component));
  return {
    component: source.component,
    applied: [...applied].filter((n) => known.has(n)).sort(),
    pending: [...known.keys()].filter((n) => !applied.has(n)).sort(),
    unknown: [...applied].filter((n) => !known.has(n)).sort(),
  };
}

export async function schemaStatus(knex: Knex, source: MigrationSource): Promise<SchemaStatus> {
  return status(knex, source, await available(source.dir));
}

/** Throws unless the database has exactly the migrations this code knows. Changes nothing. */
export async function checkSchema(knex: Knex, source: MigrationSource): Promise<void> {
  const s = await schemaStatus(knex, source);
  if (s.unknown.length) throw new SchemaTooNewError(s.component, s.unknown);
  if (s.pending.length) throw new PendingMigrationsError(s.component, s.pending);
}

/** How often a SQLite runner starts over after finding the database busy (see migrate). */
const SQLITE_BUSY_RETRIES = 20;

function isSqliteBusy(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY') || /database is locked/.test(e.message)) return true;
  }
  return false;
}

/**
 * Applies the pending migrations of one component; returns the names applied. On SQLite two
 * runners (two processes on one file) can find each other's write in the way: SQLite then
 * answers "busy" at once rather than waiting (a transaction whose snapshot is stale cannot
 * wait its turn). Each migration is one transaction that leaves nothing behind when it
 * fails, so the runner starts over from the recorded state.
 */
export async function migrate(knex: Knex, source: MigrationSource, log: Logger): Promise<string[]> {
  // Filled as migrations are applied, so those applied before a busy answer still count.
  const done: string[] = [];
  if (knex.client.dialect === 'mysql') {
    await migrateOnce(knex, source, log, done);
    return done;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await migrateOnce(knex, source, log, done);
      return done;
    } catch (err) {
      if (!isSqliteBusy(err) || attempt >= SQLITE_BUSY_RETRIES) throw err;
      log.info('database busy with another migration runner; starting over', { component: source.component });
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}

async function migrateOnce(knex: Knex, source: MigrationSource, log: Logger, done: string[]): Promise<void> {
  const known = await available(source.dir);
  await withMigrationLock(knex, async () => {
    await ensureTable(knex);
    const s = await status(knex, source, known);
    if (s.unknown.length) throw new SchemaTooNewError(s.component, s.unknown);
    if (!s.pending.length) log.info('schema up to date', { component: s.component, applied: s.applied.length });
    for (const name of s.pending) {
      if (await apply(knex, source.component, name, known.get(name)!, log)) done.push(name);
    }
  });
}

async function ensureTable(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable(TABLE)) return;
  await knex.schema.createTable(TABLE, (t) => {
    if (knex.client.dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    t.string('component', 64).notNullable();
    t.string('name', 191).notNullable();
    t.datetime('applied_at', { precision: 3 }).notNullable();
    t.primary(['component', 'name']);
  }).catch(async (err: unknown) => {
    // Another runner (SQLite has no migration lock) may have created it meanwhile.
    if (!(await knex.schema.hasTable(TABLE))) throw err;
  });
}

/** Returns false if another process applied the migration first. */
async function apply(knex: Knex, component: string, name: string, path: string, log: Logger): Promise<boolean> {
  const mod = (await import(pathToFileURL(path).href)) as Partial<MigrationModule>;
  if (typeof mod.up !== 'function') throw new Error(`migration ${component}/${name} (${path}) does not export up(knex)`);
  const up = mod.up;
  const started = Date.now();
  log.info('applying migration', { component, name });
  const record = (k: Knex) => k(TABLE).insert({ component, name, applied_at: new Date() });
  try {
    if (knex.client.dialect === 'mysql') {
      // MySQL commits every DDL statement implicitly, so a transaction would not make the
      // migration atomic: a failure leaves the statements before it applied, and the
      // migration stays unrecorded until the database is repaired by hand.
      await up(knex);
      await record(knex);
    } else {
      // SQLite DDL is transactional: a failed migration leaves no trace. Recording it
      // first takes the database's write lock, waiting out any other runner; if that
      // runner applied this migration meanwhile, the record is a duplicate and we skip.
      const applied = await knex.transaction(async (trx) => {
        try {
          await record(trx);
        } catch (err) {
          if (isUniqueViolation(err)) return false;
          throw err;
        }
        await up(trx);
        return true;
      });
      if (!applied) {
        log.info('migration applied by another process', { component, name });
        return false;
      }
    }
  } catch (err) {
    throw new Error(`migration ${component}/${name} failed: ${(err as Error).message}`, { cause: err });
  }
  log.info('applied migration', { component, name, ms: Date.now() - started });
  return true;
}

/**
 * On MySQL, several nodes may start together against one database: a named lock (per
 * database, held by one pooled connection) lets one of them migrate while the others wait
 * and then find nothing pending. On SQLite the write lock does this job (see apply).
 */
async function withMigrationLock<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  if (knex.client.dialect !== 'mysql') return fn();
  const lockName = knex.raw("LEFT(CONCAT('xmppd-migrate:', DATABASE()), 64)");
  const conn = await knex.client.acquireConnection();
  try {
    const [rows] = await knex.raw('SELECT GET_LOCK(?, ?) AS got', [lockName, LOCK_WAIT_SECONDS]).connection(conn);
    if (rows[0].got !== 1) {
      throw new Error(`another process has been migrating this database for over ${LOCK_WAIT_SECONDS}s; try again when it is done`);
    }
    try {
      return await fn();
    } finally {
      await knex.raw('SELECT RELEASE_LOCK(?)', [lockName]).connection(conn);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}
