// Message archives (XEP-0313) of accounts, and each account's archiving preferences.
//
// mam_messages holds one row per archived message per archive: a message between two local
// accounts is two rows, one in the sender's archive and one in the recipient's. `seq` orders
// an archive (insertion order, which is arrival order on the archiving node); `id` is the
// archive id clients see (XEP-0359 stanza-id), random, unique per archive. Queries read
// one archive in `seq` order, all of it or with one contact (`with_key`, the SHA-256 of the
// contact's bare JID), from a position found through (owner_key, id).
//
// On MySQL the clustered index is (owner_key, seq), so a page of an archive is one range
// of adjacent rows whatever the number of archives; InnoDB wants the AUTO_INCREMENT column
// first in some index, hence the index on seq alone. SQLite can only auto-increment an
// INTEGER PRIMARY KEY, so there seq is the key and (owner_key, seq) an index.
//
// created_at has no index of its own: rows are numbered as they are written, so age follows
// seq closely enough for a retention counted in days, and the purge finds where the old rows
// end by a binary search on seq (archive-repository.ts). One index less to keep up on every
// message written.
import type { Knex } from 'knex';

const USERNAME = 1023;
const JID = 3071;
const KEY = 64;
const ARCHIVE_ID = 32;

export async function up(knex: Knex): Promise<void> {
  if (knex.client.dialect === 'mysql') {
    await knex.raw(`CREATE TABLE mam_messages (
      owner_key VARCHAR(${KEY}) NOT NULL,
      seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      id VARCHAR(${ARCHIVE_ID}) NOT NULL,
      owner VARCHAR(${USERNAME}) NOT NULL,
      with_key VARCHAR(${KEY}) NOT NULL,
      with_jid VARCHAR(${JID}) NOT NULL,
      with_resource VARCHAR(${USERNAME}) NULL,
      outgoing TINYINT(1) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      stanza MEDIUMTEXT NOT NULL,
      PRIMARY KEY (owner_key, seq),
      UNIQUE KEY mam_messages_owner_id (owner_key, id),
      KEY mam_messages_owner_with (owner_key, with_key, seq),
      KEY mam_messages_seq (seq)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  } else {
    await knex.schema.createTable('mam_messages', (t) => {
      t.increments('seq');
      t.string('owner_key', KEY).notNullable();
      t.string('id', ARCHIVE_ID).notNullable();
      t.string('owner', USERNAME).notNullable();
      t.string('with_key', KEY).notNullable();
      t.string('with_jid', JID).notNullable();
      t.string('with_resource', USERNAME);
      t.boolean('outgoing').notNullable();
      t.datetime('created_at', { precision: 3 }).notNullable();
      t.text('stanza').notNullable();
      t.unique(['owner_key', 'id'], { indexName: 'mam_messages_owner_id' });
      t.index(['owner_key', 'seq'], 'mam_messages_owner_seq');
      t.index(['owner_key', 'with_key', 'seq'], 'mam_messages_owner_with');
    });
  }

  await knex.schema.createTable('mam_prefs', (t) => {
    if (knex.client.dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    t.string('user_key', KEY).primary();
    t.string('username', USERNAME).notNullable();
    // always | roster | never (XEP-0313 section 7)
    t.string('default_mode', 8).notNullable();
    // JSON arrays of bare JIDs
    t.text('always_jids', 'mediumtext').notNullable();
    t.text('never_jids', 'mediumtext').notNullable();
  });
}
