import type { Knex } from 'knex';
import { toCount, toDate } from './columns.ts';
import type { PropertyRepository, PropertyRow } from './types.ts';

const MAX_NAME = 191; // the indexed column's size (migrations/0001-core.ts)

/** Every set and unset also raises the change counter, in the same transaction. */
async function countChange(trx: Knex.Transaction): Promise<void> {
  await trx('property_changes').where({ id: 1 }).increment('changes', 1);
}

export class SqlPropertyRepository implements PropertyRepository {
  constructor(private readonly knex: Knex) {}

  async all(): Promise<PropertyRow[]> {
    const rows: { name: string; value: string; updated_at: unknown }[] = await this.knex('properties').orderBy('name');
    return rows.map((r) => ({ name: r.name, value: r.value, updatedAt: toDate(r.updated_at) }));
  }

  async get(name: string): Promise<PropertyRow | null> {
    const row = await this.knex('properties').where({ name }).first();
    return row ? { name: row.name, value: row.value, updatedAt: toDate(row.updated_at) } : null;
  }

  async set(name: string, value: string): Promise<void> {
    // SQLite would store a longer name that MySQL refuses; refuse it on both.
    if ([...name].length > MAX_NAME) throw new RangeError(`property name longer than ${MAX_NAME} characters: ${name.slice(0, 40)}...`);
    await this.knex.transaction(async (trx) => {
      await trx('properties').insert({ name, value, updated_at: new Date() }).onConflict('name').merge(['value', 'updated_at']);
      await countChange(trx);
    });
  }

  async unset(name: string): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const deleted = await trx('properties').where({ name }).delete();
      if (deleted) await countChange(trx);
      return deleted > 0;
    });
  }

  async fingerprint(): Promise<string> {
    const stats = await this.knex('properties').count({ n: '*' }).max({ newest: 'updated_at' }).first();
    const counter = await this.knex('property_changes').where({ id: 1 }).first('changes');
    const newest = stats?.newest == null ? 0 : toDate(stats.newest).getTime();
    return `${toCount(stats?.n)}:${newest}:${toCount(counter?.changes)}`;
  }
}
