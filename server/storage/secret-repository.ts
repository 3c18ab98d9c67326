import type { Knex } from 'knex';
import type { SecretRepository } from './types.ts';

export class SqlSecretRepository implements SecretRepository {
  constructor(private readonly knex: Knex) {}

  async getOrCreate(name: string, generate: () => string): Promise<string> {
    // Two nodes starting together may both generate one: the first insert wins, the other
    // is ignored, and both read back the same row.
    await this.knex('secrets').insert({ name, value: generate(), created_at: new Date() }).onConflict('name').ignore();
    const row = await this.knex('secrets').where({ name }).first('value');
    if (!row) throw new Error(`secret ${name} vanished after it was stored`);
    return row.value as string;
  }
}
