// Splits argv into positionals and the few options every command shares. Hand-written rather
// than util.parseArgs so that a negative number ("property set x -1") stays a positional.
import { UsageError } from './cli-errors.ts';

export interface CommandLine {
  positionals: string[];
  config: string | undefined;
  force: boolean;
  help: boolean;
  version: boolean;
  /** migrate --rename-domain OLD NEW (the domains are positionals). */
  renameDomain: boolean;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const line: CommandLine = { positionals: [], config: undefined, force: false, help: false, version: false, renameDomain: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      line.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--config' || arg === '-c') {
      const file = argv[++i];
      if (file === undefined || file === '') throw new UsageError(`${arg} needs a file name`);
      line.config = file;
    } else if (arg.startsWith('--config=')) {
      line.config = arg.slice('--config='.length);
      if (!line.config) throw new UsageError('--config needs a file name');
    } else if (arg === '--force') line.force = true;
    else if (arg === '--help' || arg === '-h') line.help = true;
    else if (arg === '--version' || arg === '-V') line.version = true;
    else if (arg === '--rename-domain') line.renameDomain = true;
    else if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) {
      throw new UsageError(`unknown option ${arg} (put -- before an argument that starts with -)`);
    } else line.positionals.push(arg);
  }
  return line;
}

/** Checks the number of arguments a command got, quoting its usage when wrong. */
export function expectArgs(args: readonly string[], usage: string, min: number, max = min): void {
  if (args.length < min) throw new UsageError(`missing arguments; usage: xmppd ${usage}`);
  if (args.length > max) throw new UsageError(`too many arguments; usage: xmppd ${usage}`);
}
