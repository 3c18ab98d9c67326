// How the administrative commands open the database: they never change the schema behind
// the operator's back, and refuse a database that holds another domain's data. The one exception is a database with no schema at all (a fresh
// install, where `xmppd user add` before the first start is common): it is created, and the
// command says so.
import type { ServerConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { connect, redactUrl } from '../storage/connection.ts';
import { coreMigrations, openStorage } from '../storage/database.ts';
import { PendingMigrationsError } from '../storage/errors.ts';
import { schemaStatus } from '../storage/migrator.ts';
import { checkServedDomain } from '../storage/served-domain.ts';
import type { Storage } from '../storage/types.ts';

export async function openStorageForCommand(config: ServerConfig, log: Logger, say: (line: string) => void): Promise<Storage> {
  const storage = await open(config, log, say);
  // Another domain's database is refused as the server refuses it (nothing is recorded
  // here: the first start records the domain it serves).
  try {
    await checkServedDomain(storage.servedDomain, config.domain);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}

async function open(config: ServerConfig, log: Logger, say: (line: string) => void): Promise<Storage> {
  try {
    return await openStorage(config.database, log);
  } catch (err) {
    if (!(err instanceof PendingMigrationsError) || !(await isEmpty(config, log))) throw err;
  }
  say(`the database is new: creating its schema (${describe(config)})`);
  return openStorage(config.database, log, { migrate: true });
}

async function isEmpty(config: ServerConfig, log: Logger): Promise<boolean> {
  const { knex } = connect(config.database, log);
  try {
    const status = await schemaStatus(knex, coreMigrations);
    return status.applied.length === 0 && status.unknown.length === 0;
  } finally {
    await knex.destroy();
  }
}

function describe(config: ServerConfig): string {
  return config.database.type === 'sqlite' ? config.database.path : redactUrl(config.database.url);
}
