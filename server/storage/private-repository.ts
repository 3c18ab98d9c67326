import type { Knex } from 'knex';
import { keyOf, toCount } from './columns.ts';
import type { PrivateItem, PrivateRepository, PrivateStoreResult } from './types.ts';

/** XEP-0049 private XML storage: one element per (user, namespace key). */
export class SqlPrivateRepository implements PrivateRepository {
  constructor(private readonly knex: Knex) {}

  async get(username: string, key: string): Promise<string | null> {
    const row = await this.knex('private_xml').where({ user_key: keyOf(username), ns_key: keyOf(key) }).first('xml');
    return row ? (row.xml as string) : null;
  }

  async set(username: string, key: string, xml: string): Promise<void> {
    await this.knex('private_xml')
      .insert({ user_key: keyOf(username), username, ns_key: keyOf(key), ns: key, xml })
      .onConflict(['user_key', 'ns_key'])
      .merge(['xml']);
  }

  /**
   * Counting and writing happen under a lock on the user's row, as offline storage does:
   * parallel requests (two resources, two nodes) are serialized per user, and the lock
   * being the transaction's first statement, the counts that follow on MySQL see every
   * element committed before it. No row is left behind a deletion of the user. SQLite needs
   * no lock: its writers are serialized.
   */
  async store(username: string, items: PrivateItem[], maxItems: number): Promise<PrivateStoreResult> {
    const user_key = keyOf(username);
    // Two elements with the same key in one request: the last wins, as two requests would.
    const rows = new Map(items.map((i) => [keyOf(i.key), { user_key, username, ns_key: keyOf(i.key), ns: i.key, xml: i.xml }]));
    return this.knex.transaction(async (trx) => {
      const user = await trx('users').where({ user_key }).forUpdate().first('user_key');
      if (!user) return 'no-user';
      if (maxItems > 0) {
        const total = await trx('private_xml').where({ user_key }).count({ n: '*' }).first();
        const replaced = await trx('private_xml').where({ user_key }).whereIn('ns_key', [...rows.keys()]).count({ n: '*' }).first();
        const added = rows.size - toCount(replaced?.n);
        // Only new keys are refused: a user over a lowered limit may still replace what is stored.
        if (added > 0 && toCount(total?.n) + added > maxItems) return 'over-limit';
      }
      // One row per statement: knex would make several rows one compound SELECT on SQLite, capped at 500 terms.
      for (const row of rows.values()) {
        await trx('private_xml').insert(row).onConflict(['user_key', 'ns_key']).merge(['xml']);
      }
      return 'stored';
    });
  }

  async count(username: string): Promise<number> {
    const row = await this.knex('private_xml').where({ user_key: keyOf(username) }).count({ n: '*' }).first();
    return toCount(row?.n);
  }
}
