import type { Knex } from 'knex';
import { keyOf, toDate } from './columns.ts';
import type { AuthFailureRepository } from './types.ts';

/** Failed logins per throttle key, shared by every node (see migrations/0004-auth-failures.ts). */
export class SqlAuthFailureRepository implements AuthFailureRepository {
  constructor(private readonly knex: Knex) {}

  async recent(names: readonly string[], since: number): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    if (!names.length) return out;
    const byKey = new Map(names.map((name) => [keyOf(name), name]));
    const rows = await this.knex('auth_failures')
      .whereIn('subject_key', [...byKey.keys()])
      .where('failed_at', '>', new Date(since))
      .select('subject_key', 'failed_at');
    for (const row of rows) {
      const name = byKey.get(row.subject_key as string)!;
      let times = out.get(name);
      if (!times) out.set(name, (times = []));
      times.push(toDate(row.failed_at).getTime());
    }
    // Sorted here rather than by the database: a few rows, and the query is on every login.
    for (const times of out.values()) times.sort((x, y) => x - y);
    return out;
  }

  async record(names: readonly string[], at: number): Promise<void> {
    if (!names.length) return;
    const failedAt = new Date(at);
    await this.knex('auth_failures').insert(names.map((name) => ({ subject_key: keyOf(name), subject: name, failed_at: failedAt })));
  }

  async clear(names: readonly string[]): Promise<void> {
    if (!names.length) return;
    await this.knex('auth_failures').whereIn('subject_key', names.map(keyOf)).delete();
  }

  async purge(before: number): Promise<void> {
    await this.knex('auth_failures').where('failed_at', '<=', new Date(before)).delete();
  }
}
