import type { Knex } from 'knex';
import { keyOf } from './columns.ts';
import type { VcardRepository } from './types.ts';

export class SqlVcardRepository implements VcardRepository {
  constructor(private readonly knex: Knex) {}

  async get(username: string): Promise<string | null> {
    const row = await this.knex('vcards').where({ user_key: keyOf(username) }).first('xml');
    return row ? (row.xml as string) : null;
  }

  async set(username: string, xml: string): Promise<void> {
    await this.knex('vcards').insert({ user_key: keyOf(username), username, xml }).onConflict('user_key').merge(['xml']);
  }
}
