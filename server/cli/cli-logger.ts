// Log lines for an interactive command: no timestamps, prefixed like the command's own
// messages. Warnings always show; progress (info) only where the command asks for it, as
// `xmppd migrate` does to list the migrations it applies.
import { Logger } from '../log.ts';
import type { LogFields } from '../log.ts';

function fields(f: LogFields | undefined): string {
  let s = '';
  for (const [k, v] of Object.entries(f ?? {})) {
    if (v === undefined) continue;
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    s += ` ${k}=${/[\s"]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return s;
}

export class CliLogger extends Logger {
  constructor(private readonly verbose: boolean) {
    super('cli');
  }

  // Storage and the registry ask for children; one voice is enough here.
  override child(): Logger {
    return this;
  }

  override enabled(level: string): boolean {
    return level === 'warn' || level === 'error' || (level === 'info' && this.verbose);
  }

  override debug(): void {}
  override info(msg: string, f?: LogFields): void {
    if (this.verbose) process.stderr.write(`xmppd: ${msg}${fields(f)}\n`);
  }
  override warn(msg: string, f?: LogFields): void {
    process.stderr.write(`xmppd: warning: ${msg}${fields(f)}\n`);
  }
  override error(msg: string, f?: LogFields): void {
    process.stderr.write(`xmppd: error: ${msg}${fields(f)}\n`);
  }
}
