// xmppd user add|passwd|del|list: accounts, by bare JID or by username alone.
import { deriveUserKeys, saslPrep, SaslPrepError } from '../auth/scram-keys.ts';
import { JID } from '../jid/jid.ts';
import { workDirOf, readStatusFile } from '../plugins/work-dir.ts';
import { AccountDeletionPendingError, UserExistsError, type AccountDeletion, type Storage } from '../storage/types.ts';
import { CommandError, UsageError } from './cli-errors.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const USER_USAGE: [string, string][] = [
  ['user add JID PASSWORD', 'create an account'],
  ['user passwd JID PASSWORD', 'change its password'],
  ['user del JID', 'delete it and everything it owns'],
  ['user list', 'list the accounts'],
];

/**
 * How long `user del` waits for a node to finish the deletion: a node polls every 2 seconds,
 * then runs the handlers of modules and plugins. Longer when a server runs with this
 * configuration here; a node elsewhere sharing the database gets a moment.
 */
const WAIT_LOCAL_MS = 30_000;
const WAIT_REMOTE_MS = 5_000;

/** The finished journal entry, or null if no node finished it in time. */
async function waitForNodes(ctx: CommandContext, storage: Storage, id: number): Promise<AccountDeletion | null> {
  const local = await readStatusFile(workDirOf(ctx.config().dataDir));
  const deadline = Date.now() + (local ? WAIT_LOCAL_MS : WAIT_REMOTE_MS);
  for (;;) {
    const entry = await storage.accountDeletions.get(id);
    if (entry?.finishedAt) return entry;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `bob` or `bob@<the configured domain>`, returned as the prepared username. */
function username(ctx: CommandContext, input: string): { name: string; jid: string } {
  const domain = ctx.config().domain;
  const jid = JID.tryParse(input.includes('@') ? input : `${input}@${domain}`);
  if (!jid || !jid.local) throw new UsageError(`invalid JID '${input}'`);
  if (jid.resource) throw new UsageError(`'${input}' has a resource; give a bare JID like user@${domain}`);
  if (jid.domain !== domain) throw new UsageError(`'${input}' is not on this server's domain ${domain}`);
  return { name: jid.local, jid: jid.bareString() };
}

/** The password argument, or one line of standard input for `-` (keeps it out of `ps`). */
async function password(input: string): Promise<string> {
  let pw = input;
  if (input === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    pw = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  if (pw === '') throw new UsageError('the password is empty');
  try {
    saslPrep(pw);
  } catch (err) {
    if (err instanceof SaslPrepError) throw new UsageError(`the password cannot be used: ${err.message}`);
    throw err;
  }
  return pw;
}

export async function userCommand(ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = ctx.args;
  switch (sub) {
    case 'add': {
      expectArgs(rest, 'user add JID PASSWORD', 2);
      const user = username(ctx, rest[0]!);
      const pw = await password(rest[1]!);
      await ctx.change('user add', { user: user.jid }, () => ctx.withProperties(async (_registry, core, storage) => {
        if (await storage.users.exists(user.name)) throw new CommandError(`user '${user.jid}' already exists`);
        try {
          await storage.users.create(user.name, await deriveUserKeys(pw, core.scramIterations.value));
        } catch (err) {
          if (err instanceof UserExistsError) throw new CommandError(`user '${user.jid}' already exists`);
          if (err instanceof AccountDeletionPendingError) {
            throw new CommandError(`user '${user.jid}' was deleted and no node has finished the deletion yet (what modules and plugins keep for it): ` +
              'start the server, or wait for a running node, and try again');
          }
          throw err;
        }
      }));
      ctx.out(`created user ${user.jid}`);
      return;
    }
    case 'passwd': {
      expectArgs(rest, 'user passwd JID PASSWORD', 2);
      const user = username(ctx, rest[0]!);
      const pw = await password(rest[1]!);
      await ctx.change('user passwd', { user: user.jid }, () => ctx.withProperties(async (_registry, core, storage) => {
        if (!(await storage.users.setKeys(user.name, await deriveUserKeys(pw, core.scramIterations.value)))) {
          throw new CommandError(`unknown user '${user.jid}'`);
        }
      }));
      ctx.out(`changed the password of ${user.jid}`);
      return;
    }
    case 'del': {
      expectArgs(rest, 'user del JID', 1);
      const user = username(ctx, rest[0]!);
      const finished = await ctx.change('user del', { user: user.jid }, () => ctx.withStorage(async (storage) => {
        const id = await storage.users.delete(user.name, 'cli');
        if (id === null) throw new CommandError(`unknown user '${user.jid}'`);
        ctx.out(`deleted user ${user.jid}`);
        return waitForNodes(ctx, storage, id);
      }), (entry) => ({ finished_by: entry?.claimedBy ?? 'pending' }));
      if (finished) {
        ctx.out(`its sessions ended, and node ${finished.claimedBy} removed what modules and plugins kept for it`);
      } else {
        ctx.say('no running node has finished the deletion yet: every node ends the account\'s sessions when it reads the deletion ' +
          '(within seconds), and a node (the first to start, if none runs) removes what modules and plugins keep for it; until then the name cannot be taken again');
      }
      return;
    }
    case 'list': {
      expectArgs(rest, 'user list', 0);
      const domain = ctx.config().domain;
      const names = await ctx.withStorage((storage) => storage.users.list());
      for (const name of [...names].sort()) ctx.out(`${name}@${domain}`);
      return;
    }
    case undefined:
      throw new UsageError('missing user command: add, passwd, del or list');
    default:
      throw new UsageError(`unknown user command '${sub}': add, passwd, del or list`);
  }
}
