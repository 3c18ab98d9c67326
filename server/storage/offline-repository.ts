import type { Knex } from 'knex';
import { keyOf, toCount, toDate } from './columns.ts';
import type { OfflineMessage, OfflineRepository } from './types.ts';

const DELETE_CHUNK = 500;

export class SqlOfflineRepository implements OfflineRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * Count and insert happen under a lock on the user's row, so parallel stores (from any
   * node) never take a user past the limit, and none can slip in behind a deletion of the
   * user. The lock is the transaction's first statement, so on MySQL the count that follows
   * sees every message committed before it. Messages for users who do not exist are not
   * stored. SQLite needs no lock: its writers are serialized.
   */
  async store(username: string, stanza: string, limit: number, maxBytes = 0): Promise<boolean> {
    if (limit <= 0) return false;
    const bytes = Buffer.byteLength(stanza, 'utf8');
    if (maxBytes > 0 && bytes > maxBytes) return false;
    const user_key = keyOf(username);
    return this.knex.transaction(async (trx) => {
      const user = await trx('users').where({ user_key }).forUpdate().first('user_key');
      if (!user) return false;
      const row = await trx('offline_messages').where({ user_key }).count({ n: '*' }).sum({ total: 'bytes' }).first();
      if (toCount(row?.n) >= limit) return false;
      if (maxBytes > 0 && toCount(row?.total) + bytes > maxBytes) return false;
      await trx('offline_messages').insert({ user_key, username, stanza, bytes, created_at: new Date() });
      return true;
    });
  }

  async count(username: string): Promise<number> {
    const row = await this.knex('offline_messages').where({ user_key: keyOf(username) }).count({ n: '*' }).first();
    return toCount(row?.n);
  }

  async list(username: string): Promise<OfflineMessage[]> {
    const rows: { id: number; stanza: string; created_at: unknown }[] = await this.knex('offline_messages')
      .where({ user_key: keyOf(username) })
      .orderBy('id')
      .select('id', 'stanza', 'created_at');
    return rows.map((r) => ({ id: Number(r.id), stanza: r.stanza, createdAt: toDate(r.created_at) }));
  }

  async delete(username: string, ids: number[]): Promise<void> {
    const user_key = keyOf(username);
    for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
      await this.knex('offline_messages').where({ user_key }).whereIn('id', ids.slice(i, i + DELETE_CHUNK)).delete();
    }
  }

  async total(): Promise<number> {
    const row = await this.knex('offline_messages').count({ n: '*' }).first();
    return toCount(row?.n);
  }
}
