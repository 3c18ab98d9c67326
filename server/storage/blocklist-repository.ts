import type { Knex } from 'knex';
import { keyOf } from './columns.ts';
import type { BlocklistRepository } from './types.ts';

/** knex inserts many rows on SQLite as a compound SELECT, which SQLite caps at 500 terms. */
const CHUNK = 500;

/** XEP-0191 blocked JIDs of a user: any JID form (domain, bare, full), compared exactly. */
export class SqlBlocklistRepository implements BlocklistRepository {
  constructor(private readonly knex: Knex) {}

  async list(username: string): Promise<string[]> {
    const rows: { jid: string }[] = await this.knex('blocklist').where({ user_key: keyOf(username) }).orderBy('jid').select('jid');
    return rows.map((r) => r.jid);
  }

  /** Adding a JID already blocked is not an error. */
  async add(username: string, jids: string[]): Promise<void> {
    if (!jids.length) return;
    const user_key = keyOf(username);
    const rows = [...new Set(jids)].map((jid) => ({ user_key, username, jid_key: keyOf(jid), jid }));
    await this.knex.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += CHUNK) {
        // An upsert rather than INSERT IGNORE, which on MySQL would also turn real errors into warnings.
        await trx('blocklist').insert(rows.slice(i, i + CHUNK)).onConflict(['user_key', 'jid_key']).merge(['jid']);
      }
    });
  }

  async remove(username: string, jids: string[]): Promise<void> {
    const user_key = keyOf(username);
    if (!jids.length) {
      await this.knex('blocklist').where({ user_key }).delete();
      return;
    }
    const keys = jids.map(keyOf);
    await this.knex.transaction(async (trx) => {
      for (let i = 0; i < keys.length; i += CHUNK) await trx('blocklist').where({ user_key }).whereIn('jid_key', keys.slice(i, i + CHUNK)).delete();
    });
  }
}
