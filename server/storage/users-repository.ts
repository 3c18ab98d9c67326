import type { Knex } from 'knex';
import { keyOf, toCount, toDate } from './columns.ts';
import { isUniqueViolation } from './errors.ts';
import { deletionPending, journalDeletion } from './account-deletion-repository.ts';
import { AccountDeletionPendingError, UserExistsError, type AccountDeletionSource, type ScramKeys, type UserRecord, type UserRepository } from './types.ts';

type Keys = { scramSha1: ScramKeys; scramSha256: ScramKeys };

/** Tables holding rows owned by a user, all keyed by `user_key`. */
const OWNED_TABLES = ['roster_items', 'roster_versions', 'offline_messages', 'private_xml', 'vcards', 'blocklist', 'last_activity'];

function keyColumns(keys: Keys): Record<string, string | number> {
  const cols: Record<string, string | number> = {};
  for (const [hash, k] of [['sha1', keys.scramSha1], ['sha256', keys.scramSha256]] as const) {
    cols[`${hash}_salt`] = k.salt;
    cols[`${hash}_iterations`] = k.iterations;
    cols[`${hash}_stored_key`] = k.storedKey;
    cols[`${hash}_server_key`] = k.serverKey;
  }
  return cols;
}

function scram(row: Record<string, unknown>, hash: 'sha1' | 'sha256'): ScramKeys {
  return {
    salt: row[`${hash}_salt`] as string,
    iterations: Number(row[`${hash}_iterations`]),
    storedKey: row[`${hash}_stored_key`] as string,
    serverKey: row[`${hash}_server_key`] as string,
  };
}

export class SqlUserRepository implements UserRepository {
  constructor(private readonly knex: Knex) {}

  async get(username: string): Promise<UserRecord | null> {
    const row = await this.knex('users').where({ user_key: keyOf(username) }).first();
    if (!row) return null;
    return { username: row.username, scramSha1: scram(row, 'sha1'), scramSha256: scram(row, 'sha256'), createdAt: toDate(row.created_at) };
  }

  async exists(username: string): Promise<boolean> {
    return (await this.knex('users').where({ user_key: keyOf(username) }).first('user_key')) !== undefined;
  }

  async create(username: string, keys: Keys): Promise<void> {
    const user_key = keyOf(username);
    try {
      await this.knex.transaction(async (trx) => {
        if (await deletionPending(trx, username)) throw new AccountDeletionPendingError(username);
        await trx('users').insert({ user_key, username, ...keyColumns(keys), created_at: new Date() });
        // Whatever a writer racing the deletion of an earlier account of this name left
        // (a roster change still on its way, say) is not the new account's.
        for (const table of OWNED_TABLES) await trx(table).where({ user_key }).delete();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new UserExistsError(username);
      throw err;
    }
  }

  async setKeys(username: string, keys: Keys): Promise<boolean> {
    return (await this.knex('users').where({ user_key: keyOf(username) }).update(keyColumns(keys))) > 0;
  }

  async delete(username: string, source: AccountDeletionSource): Promise<number | null> {
    const user_key = keyOf(username);
    return this.knex.transaction(async (trx) => {
      // The users row goes first: writers that must not leave rows behind a deleted user
      // (offline storage) lock it before writing, so they wait for this transaction and
      // then find no user.
      // Owned rows are removed even when the user is already gone, so that nothing left
      // over can reach a new account of the same name.
      const deleted = await trx('users').where({ user_key }).delete();
      for (const table of OWNED_TABLES) await trx(table).where({ user_key }).delete();
      return deleted > 0 ? journalDeletion(trx, username, source) : null;
    });
  }

  async list(): Promise<string[]> {
    const rows: { username: string }[] = await this.knex('users').orderBy('username').select('username');
    return rows.map((r) => r.username);
  }

  async page({ search, limit, offset }: { search?: string; limit: number; offset: number }): Promise<{ usernames: string[]; total: number }> {
    const matching = (): Knex.QueryBuilder => {
      const q = this.knex('users');
      // LIKE with its wildcards escaped, so that "_" and "%" in a search are literal. Both
      // dialects compare ASCII letters without case here only if asked: lower() on both sides.
      if (search) q.whereRaw("lower(username) like ? escape '!'", [`%${search.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`]);
      return q;
    };
    const [rows, counted] = await Promise.all([
      matching().orderBy('username').limit(limit).offset(offset).select('username') as Promise<{ username: string }[]>,
      matching().count({ n: '*' }).first(),
    ]);
    return { usernames: rows.map((r) => r.username), total: toCount(counted?.n) };
  }

  async count(): Promise<number> {
    const row = await this.knex('users').count({ n: '*' }).first();
    return toCount(row?.n);
  }
}
