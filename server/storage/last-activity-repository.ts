import type { Knex } from 'knex';
import { keyOf, toDate } from './columns.ts';
import type { LastActivityRecord, LastActivityRepository } from './types.ts';

/** XEP-0012: when each user last logged out, and the status they left with. */
export class SqlLastActivityRepository implements LastActivityRepository {
  constructor(private readonly knex: Knex) {}

  async get(username: string): Promise<LastActivityRecord | null> {
    const row = await this.knex('last_activity').where({ user_key: keyOf(username) }).first('at', 'status');
    return row ? { at: toDate(row.at), status: row.status as string } : null;
  }

  async set(username: string, record: LastActivityRecord): Promise<void> {
    await this.knex('last_activity')
      .insert({ user_key: keyOf(username), username, at: record.at, status: record.status })
      .onConflict('user_key')
      .merge(['at', 'status']);
  }
}
