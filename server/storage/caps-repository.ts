import type { Knex } from 'knex';
import { keyOf } from './columns.ts';
import type { CapsInfo, CapsRepository } from './types.ts';

/** XEP-0115 verification strings and what they stand for, shared by every node. */
export class SqlCapsRepository implements CapsRepository {
  constructor(private readonly knex: Knex) {}

  async get(ver: string): Promise<CapsInfo | null> {
    const row = await this.knex('caps_features').where({ ver_key: keyOf(ver) }).first('info');
    if (!row) return null;
    const info = JSON.parse(row.info as string) as CapsInfo;
    return { identities: info.identities ?? [], features: info.features ?? [] };
  }

  async put(ver: string, info: CapsInfo): Promise<void> {
    // A string is only stored once verified, so two writers store the same thing: the first wins.
    await this.knex('caps_features')
      .insert({ ver_key: keyOf(ver), ver, info: JSON.stringify(info), created_at: new Date() })
      .onConflict('ver_key')
      .ignore();
  }
}
