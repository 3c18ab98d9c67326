// The audit trail of the administrative commands: one line per change made with `xmppd`
// (accounts, properties, plugins, the schema), appended to <data_dir>/audit.log with who
// ran it (the operating system's user, and the one behind sudo) and what they changed. The
// server logs its own changes (the admin API's, with the administrator's JID) in its log;
// the command runs elsewhere and writes here. The file is opened before the change is made,
// so a change that could not be recorded is not made.
import { chown, mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { LogFields } from '../log.ts';
import { CommandError } from './cli-errors.ts';

export const AUDIT_FILE = 'audit.log';

/** The operating system's account running the command, and the one behind sudo if any. */
export function invoker(): LogFields {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A container's user with no passwd entry has only its number.
    user = `uid:${process.getuid?.() ?? '?'}`;
  }
  return { by: user, uid: process.getuid?.(), sudo_user: process.env.SUDO_USER || undefined };
}

function line(fields: LogFields): string {
  let s = new Date().toISOString();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    s += ` ${k}=${text === '' || /[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return s + '\n';
}

export class AuditLog {
  private constructor(private readonly file: FileHandle, readonly path: string) {}

  /** Opens (creating) the audit log of a data folder, or says why it cannot be written. */
  static async open(dataDir: string): Promise<AuditLog> {
    const path = join(dataDir, AUDIT_FILE);
    try {
      await mkdir(dataDir, { recursive: true });
      const file = await open(path, 'a', 0o640);
      // root making the first entry must not lock the server's own user out of the file.
      if (process.getuid?.() === 0) {
        const owner = await stat(dataDir);
        await chown(path, owner.uid, owner.gid).catch(() => undefined);
      }
      return new AuditLog(file, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CommandError(`cannot write the audit log ${path} (${code}): run the command as the server's user, or let it write there; nothing was changed`);
    }
  }

  /** One line: the command, what it acted on, how it ended, and who ran it. */
  async record(command: string, fields: LogFields): Promise<void> {
    await this.file.appendFile(line({ command, ...fields, ...invoker(), pid: process.pid }));
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
