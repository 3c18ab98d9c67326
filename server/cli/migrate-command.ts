// xmppd migrate: the explicit step that brings the database schema up to date, listing each
// migration it applies. Running it again finds nothing to do.
import { openStorage } from '../storage/database.ts';
import { CliLogger } from './cli-logger.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const MIGRATE_USAGE: [string, string][] = [
  ['migrate', 'apply pending database migrations'],
];

export async function migrateCommand(ctx: CommandContext): Promise<void> {
  expectArgs(ctx.args, 'migrate', 0);
  const storage = await openStorage(ctx.config().database, new CliLogger(true), { migrate: true });
  await storage.close();
  ctx.out('database schema is up to date');
}
