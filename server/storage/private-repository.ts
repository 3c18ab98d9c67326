import type { Knex } from 'knex';
import { keyOf } from './columns.ts';
import type { PrivateRepository } from './types.ts';

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
}
