// The xmppd command: picks the command, runs it, and turns any failure into one line on
// stderr and an exit code (0 done, 1 could not be done, 2 wrong command line or config).
import { ConfigError } from '../config/config-error.ts';
import { PropertyValueError } from '../properties/types.ts';
import { UsageError } from './cli-errors.ts';
import { CLUSTER_USAGE, clusterCommand } from './cluster-commands.ts';
import { CommandContext } from './command-context.ts';
import { parseCommandLine } from './command-line.ts';
import { MIGRATE_USAGE, migrateCommand } from './migrate-command.ts';
import { MUC_USAGE, mucCommand } from './muc-commands.ts';
import { PLUGIN_USAGE, pluginCommand } from './plugin-commands.ts';
import { PROPERTY_USAGE, propertyCommand } from './property-commands.ts';
import { START_USAGE, startCommand } from './start-command.ts';
import { USER_USAGE, userCommand } from './user-commands.ts';
import { SERVER_VERSION } from '../version.ts';

const lines = (rows: [string, string][]): string => rows.map(([a, b]) => `  ${a.padEnd(26)}  ${b}`).join('\n');

const USAGE = `usage: xmppd COMMAND [--config FILE]

commands:
${lines([...START_USAGE, ...USER_USAGE, ...MIGRATE_USAGE, ...PROPERTY_USAGE, ...PLUGIN_USAGE, ...CLUSTER_USAGE, ...MUC_USAGE, ['version', 'the server\'s version'], ['help', 'this text']])}

options:
${lines([
  ['--config FILE, -c FILE', 'configuration file (default: $XMPPD_CONFIG, else conf/xmppd.yml)'],
  ['--force', 'property set: store a property this server does not define'],
  ['--rename-domain', 'migrate: move the data of one domain to another'],
  ['--help, -h', 'this text'],
  ['--version, -V', 'the server\'s version'],
])}

A JID is user@domain or just user; the domain must be the configured one. A PASSWORD of -
is read from standard input. Exit status: 0 done, 1 failed, 2 bad command line or configuration.
See docs/configuration.md.`;

const COMMANDS: Record<string, (ctx: CommandContext) => Promise<void>> = {
  start: startCommand,
  user: userCommand,
  migrate: migrateCommand,
  property: propertyCommand,
  plugin: pluginCommand,
  cluster: clusterCommand,
  muc: mucCommand,
};

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const line = parseCommandLine(argv);
    const [command, ...args] = line.positionals;
    if (line.help || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    // Asked for on its own, the version needs no configuration and no database.
    if (line.version || command === 'version') {
      if (line.version ? line.positionals.length : args.length) throw new UsageError('version takes no arguments');
      process.stdout.write(`xmppd ${SERVER_VERSION}\n`);
      return 0;
    }
    if (command === undefined) throw new UsageError('missing command');
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command '${command}'`);
    if (line.force && !(command === 'property' && args[0] === 'set')) throw new UsageError('--force only applies to property set');
    if (line.renameDomain && command !== 'migrate') throw new UsageError('--rename-domain only applies to migrate');
    await run(new CommandContext(line, args));
    return 0;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) {
    process.stderr.write(`xmppd: ${message}\nRun 'xmppd --help' for usage.\n`);
    return 2;
  }
  process.stderr.write(`xmppd: ${message}\n`);
  if (err instanceof ConfigError || err instanceof PropertyValueError) return 2;
  // The message is the whole story for the operator; the stack is for whoever debugs a bug.
  if (process.env.XMPPD_LOG_LEVEL === 'debug' && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return 1;
}
