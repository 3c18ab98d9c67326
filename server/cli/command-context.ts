// What every command gets: its arguments, where to print, the configuration (loaded only
// once the arguments are known to be right) and the way to reach the database.
import { loadConfig } from '../config/load-config.ts';
import type { ServerConfig } from '../config/types.ts';
import { defineKnownProperties } from '../known-properties.ts';
import type { CoreProperties } from '../properties/core-properties.ts';
import { PropertyRegistry } from '../properties/property-registry.ts';
import type { Storage } from '../storage/types.ts';
import type { LogFields } from '../log.ts';
import { AuditLog } from './audit-log.ts';
import { CliLogger } from './cli-logger.ts';
import type { CommandLine } from './command-line.ts';
import { openStorageForCommand } from './open-storage.ts';

export class CommandContext {
  private loaded: ServerConfig | null = null;

  constructor(readonly line: CommandLine, readonly args: readonly string[]) {}

  /** A result, on stdout. */
  out(text: string): void {
    process.stdout.write(text + '\n');
  }

  /** A remark about what happened on the way, on stderr so that stdout stays parseable. */
  say(text: string): void {
    process.stderr.write(`xmppd: ${text}\n`);
  }

  config(): ServerConfig {
    this.loaded ??= loadConfig({ file: this.line.config });
    return this.loaded;
  }

  async withStorage<T>(fn: (storage: Storage) => Promise<T>, options: { verbose?: boolean } = {}): Promise<T> {
    const storage = await openStorageForCommand(this.config(), new CliLogger(options.verbose ?? false), (t) => this.say(t));
    try {
      return await fn(storage);
    } finally {
      await storage.close();
    }
  }

  /**
   * Makes a change and records it in the audit log (audit-log.ts): `command` and `target`
   * say what, `details` anything else worth keeping (never a password). The log is opened
   * first, so a change that cannot be recorded is refused; a change that fails is recorded
   * as failed, with the reason.
   */
  async change<T>(command: string, target: LogFields, fn: () => Promise<T>, details?: (result: T) => LogFields): Promise<T> {
    const audit = await AuditLog.open(this.config().dataDir);
    try {
      const result = await fn();
      await audit.record(command, { ...target, ...details?.(result), result: 'done' });
      return result;
    } catch (err) {
      await audit.record(command, { ...target, result: 'failed', error: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      await audit.close();
    }
  }

  /** The property registry with every definition the kernel knows, loaded from the database. */
  async withProperties<T>(fn: (registry: PropertyRegistry, core: CoreProperties, storage: Storage) => Promise<T>): Promise<T> {
    return this.withStorage(async (storage) => {
      const registry = new PropertyRegistry(storage.properties, new CliLogger(false));
      const core = defineKnownProperties(registry);
      await registry.load();
      return fn(registry, core, storage);
    });
  }
}
