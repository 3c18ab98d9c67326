import type { Knex } from 'knex';
import { keyOf } from './columns.ts';
import { isUniqueViolation } from './errors.ts';
import type { RosterItem, RosterRepository, Subscription } from './types.ts';

interface RosterRow {
  username: string;
  jid: string;
  name: string | null;
  subscription: Subscription;
  ask_out: number | boolean;
  ask_in: number | boolean;
  ask_in_stanza: string | null;
  approved: number | boolean;
  added: number | boolean;
  group_names: string;
}

function toItem(row: RosterRow): RosterItem {
  return {
    jid: row.jid,
    name: row.name ?? null,
    subscription: row.subscription,
    askOut: Boolean(row.ask_out),
    askIn: Boolean(row.ask_in),
    askInStanza: row.ask_in_stanza ?? null,
    approved: Boolean(row.approved),
    added: Boolean(row.added),
    groups: JSON.parse(row.group_names) as string[],
  };
}

/**
 * The version is a counter per user, raised in the same transaction as the change it
 * describes. The upsert locks the user's counter row (MySQL), so concurrent changes to one
 * roster get distinct versions in commit order.
 */
async function bump(trx: Knex.Transaction, user_key: string, username: string): Promise<string> {
  await trx('roster_versions')
    .insert({ user_key, username, version: 1 })
    .onConflict('user_key')
    .merge({ version: trx.raw('?? + 1', ['roster_versions.version']) });
  return current(trx, user_key);
}

/** Raises the version from `from` to the next; false when the version is not `from` (version 0: no row yet). */
async function bumpFrom(trx: Knex.Transaction, user_key: string, username: string, from: number): Promise<boolean> {
  if (from > 0) return (await trx('roster_versions').where({ user_key, version: from }).update({ version: from + 1 })) === 1;
  try {
    await trx('roster_versions').insert({ user_key, username, version: 1 });
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

async function upsert(trx: Knex.Transaction, user_key: string, username: string, item: RosterItem): Promise<void> {
  await trx('roster_items')
    .insert({
      user_key,
      username,
      jid_key: keyOf(item.jid),
      jid: item.jid,
      name: item.name,
      subscription: item.subscription,
      ask_out: item.askOut,
      ask_in: item.askIn,
      ask_in_stanza: item.askInStanza,
      approved: item.approved,
      added: item.added,
      group_names: JSON.stringify(item.groups),
    })
    .onConflict(['user_key', 'jid_key'])
    .merge();
}

async function current(k: Knex, user_key: string): Promise<string> {
  const row = await k('roster_versions').where({ user_key }).first('version');
  return row ? String(row.version) : '0';
}

export class SqlRosterRepository implements RosterRepository {
  constructor(private readonly knex: Knex) {}

  async list(username: string): Promise<RosterItem[]> {
    const rows: RosterRow[] = await this.knex('roster_items').where({ user_key: keyOf(username) }).orderBy('jid');
    return rows.map(toItem);
  }

  async get(username: string, jid: string): Promise<RosterItem | null> {
    const row: RosterRow | undefined = await this.knex('roster_items').where({ user_key: keyOf(username), jid_key: keyOf(jid) }).first();
    return row ? toItem(row) : null;
  }

  async put(username: string, item: RosterItem): Promise<string> {
    const user_key = keyOf(username);
    // The counter row first, as in writeIfVersion, so that the two never wait for each
    // other's locks in opposite order (MySQL would break that deadlock by failing one).
    return this.knex.transaction(async (trx) => {
      const version = await bump(trx, user_key, username);
      await upsert(trx, user_key, username, item);
      return version;
    });
  }

  /**
   * The conditional bump comes first: on MySQL it locks the counter row until commit, so a
   * second writer at the same version waits, then finds the version moved and writes nothing.
   */
  async writeIfVersion(username: string, expected: string, jid: string, item: RosterItem | null): Promise<string | null> {
    const user_key = keyOf(username);
    const from = Number(expected);
    return this.knex.transaction(async (trx) => {
      if (!(await bumpFrom(trx, user_key, username, from))) return null;
      if (item) await upsert(trx, user_key, username, item);
      else await trx('roster_items').where({ user_key, jid_key: keyOf(jid) }).delete();
      return String(from + 1);
    });
  }

  /** Removing an item that is not there changes nothing, so the version stays. */
  async remove(username: string, jid: string): Promise<string> {
    const user_key = keyOf(username);
    return this.knex.transaction(async (trx) => {
      const deleted = await trx('roster_items').where({ user_key, jid_key: keyOf(jid) }).delete();
      return deleted ? bump(trx, user_key, username) : current(trx, user_key);
    });
  }

  async version(username: string): Promise<string> {
    return current(this.knex, keyOf(username));
  }

  async holders(jid: string): Promise<{ username: string; item: RosterItem }[]> {
    const rows: RosterRow[] = await this.knex('roster_items').where({ jid_key: keyOf(jid) }).orderBy('username');
    return rows.map((row) => ({ username: row.username, item: toItem(row) }));
  }
}
