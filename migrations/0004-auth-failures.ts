// Failed logins counted for the SASL throttle (server/auth/failure-throttle.ts): one row per
// failure and per key it counts for (`account:<username>`, `address:<address or /64>`), so
// every node sharing the database sees the same counts. Rows older than the window are
// deleted by the nodes as they go; nothing else refers to them.
//
// A key may hold a 1023-byte username, so it is indexed through `subject_key`, its SHA-256 in
// hex (server/storage/columns.ts), with the key itself in `subject` for operators to read.
import type { Knex } from 'knex';

const SUBJECT = 1031; // characters: "account:" and a localpart of at most 1023
const KEY = 64; // hex SHA-256

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('auth_failures', (t) => {
    if (knex.client.dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    t.bigIncrements('id');
    t.string('subject_key', KEY).notNullable();
    t.string('subject', SUBJECT).notNullable();
    t.datetime('failed_at', { precision: 3 }).notNullable();
    // The read on each attempt (the keys' failures in the window) and the purge.
    t.index(['subject_key', 'failed_at'], 'auth_failures_subject_key');
    t.index(['failed_at'], 'auth_failures_failed_at');
  });
}
