// The size of each stored offline message, so that a per-user quota in bytes can be checked
// with one indexed sum instead of reading every message. Rows stored before this migration
// get the length of their text (characters on SQLite, bytes on MySQL: near enough for a quota).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('offline_messages', (t) => {
    t.integer('bytes').notNullable().defaultTo(0);
  });
  await knex('offline_messages').update({ bytes: knex.raw('length(stanza)') });
}
