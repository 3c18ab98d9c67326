// xmppd migrate: the explicit step that brings the database schema up to date, listing each
// migration it applies. Running it again finds nothing to do. With --rename-domain OLD NEW
// it also moves the data of the domain OLD to NEW (see storage/domain-rename.ts), for a
// server whose configured domain changed.
import { prepareDomain } from '../jid/prep.ts';
import { defineKnownProperties } from '../known-properties.ts';
import { defineDeclaredProperties } from '../plugins/plugin-files.ts';
import { PropertyRegistry } from '../properties/property-registry.ts';
import { openStorage } from '../storage/database.ts';
import { renameDomainData } from '../storage/domain-rename.ts';
import type { Storage } from '../storage/types.ts';
import { SERVER_VERSION } from '../version.ts';
import { CommandError, UsageError } from './cli-errors.ts';
import { CliLogger } from './cli-logger.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';
import { domainRewriter } from './rename-domain.ts';

export const MIGRATE_USAGE: [string, string][] = [
  ['migrate', 'apply pending database migrations'],
  ['migrate --rename-domain OLD NEW', 'also move the data of domain OLD to NEW (stop every node first)'],
];

export async function migrateCommand(ctx: CommandContext): Promise<void> {
  const rename = ctx.line.renameDomain;
  expectArgs(ctx.args, rename ? 'migrate --rename-domain OLD NEW' : 'migrate', rename ? 2 : 0);
  const domains = rename ? checkedDomains(ctx) : null;
  await ctx.change(rename ? 'migrate --rename-domain' : 'migrate', domains ?? {}, async () => {
    const storage = await openStorage(ctx.config().database, new CliLogger(true), { migrate: true });
    try {
      ctx.out('database schema is up to date');
      if (domains) await renameDomain(ctx, storage, domains.from, domains.to);
    } finally {
      await storage.close();
    }
  });
}

function checkedDomains(ctx: CommandContext): { from: string; to: string } {
  const [from, to] = ctx.args.map((raw) => prepareDomain(raw) ?? fail(new UsageError(`'${raw}' is not a domain name`))) as [string, string];
  if (from === to) throw new UsageError(`the old and new domains are both ${from}`);
  const configured = ctx.config().domain;
  // Renaming to anything else would leave a database the nodes refuse.
  if (configured !== to) throw new CommandError(`the configuration serves ${configured}, not ${to}: set domain: ${to} in it first, then rename`);
  return { from, to };
}

function fail(err: Error): never {
  throw err;
}

async function renameDomain(ctx: CommandContext, storage: Storage, from: string, to: string): Promise<void> {
  const recorded = await storage.servedDomain.get();
  if (recorded === to) throw new CommandError(`the database already holds the data of ${to}: nothing to rename`);
  if (recorded !== null && recorded !== from) throw new CommandError(`the database holds the data of ${recorded}, not of ${from}`);
  // Property types tell which stored values are lists of accounts: the kernel's and those the
  // installed plugins declare.
  const registry = new PropertyRegistry(storage.properties, new CliLogger(false));
  const core = defineKnownProperties(registry);
  const options = { serverVersion: SERVER_VERSION, maxArchiveBytes: core.pluginsMaxArchiveBytes.value };
  for (const problem of await defineDeclaredProperties(registry, ctx.config().pluginsDir, options)) ctx.say(`ignoring a plugin property: ${problem}`);

  const report = await renameDomainData(storage.knex, from, to, domainRewriter(from, to, registry));
  ctx.out(`moved the data of ${from} to ${to}: ${report.rosterItems} roster items, ${report.pendingRequests} pending subscription requests, ` +
    `${report.blocklist} block list entries, ${report.offlineMessages} offline messages, ${report.properties} properties rewritten`);
  ctx.say('vCards, private XML storage and plugins\' own tables were left as they are (see docs/operations.md)');
}
