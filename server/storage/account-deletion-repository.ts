// The journal of account deletions (migrations/0006-account-deletions.ts). Entries are added
// by the users repository, in the transaction that removes the account's rows.
import type { Knex } from 'knex';
import { keyOf, toDate } from './columns.ts';
import type { AccountDeletion, AccountDeletionRepository, AccountDeletionSource } from './types.ts';

interface Row {
  id: number | string;
  username: string;
  source: string;
  deleted_at: unknown;
  claimed_by: string | null;
  finished_at: unknown;
}

function toEntry(row: Row): AccountDeletion {
  return {
    id: Number(row.id),
    username: row.username,
    source: row.source as AccountDeletionSource,
    deletedAt: toDate(row.deleted_at),
    claimedBy: row.claimed_by,
    finishedAt: row.finished_at === null || row.finished_at === undefined ? null : toDate(row.finished_at),
  };
}

/** Adds an entry within the deleting transaction; returns its id. */
export async function journalDeletion(trx: Knex.Transaction, username: string, source: AccountDeletionSource): Promise<number> {
  // Both drivers answer an insert with the new row's id.
  const [id] = await trx('account_deletions').insert({ user_key: keyOf(username), username, source, deleted_at: new Date() });
  return Number(id);
}

/** True while a deletion of the name is not finished (checked within the creating transaction). */
export async function deletionPending(trx: Knex.Transaction, username: string): Promise<boolean> {
  return (await trx('account_deletions').where({ user_key: keyOf(username) }).whereNull('finished_at').first('id')) !== undefined;
}

export class SqlAccountDeletionRepository implements AccountDeletionRepository {
  constructor(private readonly knex: Knex) {}

  async get(id: number): Promise<AccountDeletion | null> {
    const row: Row | undefined = await this.knex('account_deletions').where({ id }).first();
    return row ? toEntry(row) : null;
  }

  async latestId(): Promise<number> {
    const row = await this.knex('account_deletions').max({ id: 'id' }).first();
    return Number(row?.id ?? 0);
  }

  async after(id: number, limit: number): Promise<AccountDeletion[]> {
    const rows: Row[] = await this.knex('account_deletions').where('id', '>', id).orWhereNull('finished_at').orderBy('id').limit(limit);
    return rows.map(toEntry);
  }

  async claim(id: number, node: string, staleBefore: Date): Promise<boolean> {
    const claimed = await this.knex('account_deletions')
      .where({ id })
      .whereNull('finished_at')
      .andWhere((q) => q.whereNull('claimed_by').orWhere('claimed_at', '<', staleBefore))
      .update({ claimed_by: node, claimed_at: new Date() });
    return claimed > 0;
  }

  async finish(id: number): Promise<void> {
    await this.knex('account_deletions').where({ id }).update({ finished_at: new Date() });
  }

  async purge(finishedBefore: Date): Promise<void> {
    await this.knex('account_deletions').where('finished_at', '<', finishedBefore).delete();
  }
}
