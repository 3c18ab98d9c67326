// Message archives keyed by numbers instead of strings (replaces 0007's mam_messages).
//
// Every archived message touches three indexes (a position from an id, a page of the whole
// archive, a page with one contact); in 0007 each of their entries began with one or two
// 64-character SHA-256 keys, and every row carried its owner and contact twice (key and
// text). Here each owner and contact is named once, in mam_names, and rows refer to it by
// its number: index entries are 8-byte integers (and the id), a row carries neither name.
//
// mam_names numbers every string an archive row names: owners (an account's localpart, a
// room's JID) and contacts (bare JIDs); `name_key` is the SHA-256 of the name, as
// everywhere else a user string is indexed (0001-core.ts). A number, once given, is never
// taken back or reused: nodes keep the numbers they have looked up, so a name deleted and
// given again would leave a node writing under the old one. The name of an account whose
// archive is deleted therefore stays here (its messages do not).
//
// mam_entries is mam_messages with `archive` (the owner's number) for owner_key and owner,
// `with_id` (the contact's number) for with_key and with_jid; seq, id and the rest as they
// were. The rows are copied with their positions, so every archive id and every position
// a client or node holds stays valid.
import type { Knex } from 'knex';

const USERNAME = 1023;
const JID = 3071;
const KEY = 64;
const ARCHIVE_ID = 32;

export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.dialect === 'mysql';
  if (mysql) {
    await knex.raw(`CREATE TABLE mam_names (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name_key VARCHAR(${KEY}) NOT NULL,
      name VARCHAR(${JID}) NOT NULL,
      UNIQUE KEY mam_names_key (name_key)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    // As 0007: the clustered index (archive, seq) makes a page one range of adjacent rows;
    // InnoDB wants the AUTO_INCREMENT column first in some index, hence (seq).
    await knex.raw(`CREATE TABLE mam_entries (
      archive BIGINT UNSIGNED NOT NULL,
      seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      id VARCHAR(${ARCHIVE_ID}) NOT NULL,
      with_id BIGINT UNSIGNED NOT NULL,
      with_resource VARCHAR(${USERNAME}) NULL,
      outgoing TINYINT(1) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      stanza MEDIUMTEXT NOT NULL,
      PRIMARY KEY (archive, seq),
      UNIQUE KEY mam_entries_archive_id (archive, id),
      KEY mam_entries_archive_with (archive, with_id, seq),
      KEY mam_entries_seq (seq)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  } else {
    await knex.schema.createTable('mam_names', (t) => {
      t.increments('id');
      t.string('name_key', KEY).notNullable().unique({ indexName: 'mam_names_key' });
      t.string('name', JID).notNullable();
    });
    await knex.schema.createTable('mam_entries', (t) => {
      t.increments('seq');
      t.integer('archive').notNullable();
      t.string('id', ARCHIVE_ID).notNullable();
      t.integer('with_id').notNullable();
      t.string('with_resource', USERNAME);
      t.boolean('outgoing').notNullable();
      t.datetime('created_at', { precision: 3 }).notNullable();
      t.text('stanza').notNullable();
      t.unique(['archive', 'id'], { indexName: 'mam_entries_archive_id' });
      t.index(['archive', 'seq'], 'mam_entries_archive_seq');
      t.index(['archive', 'with_id', 'seq'], 'mam_entries_archive_with');
    });
  }

  // The names 0007 keyed, with the keys it gave them (the same SHA-256 of the same string).
  const ignore = mysql ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
  await knex.raw(`${ignore} INTO mam_names (name_key, name) SELECT owner_key, MIN(owner) FROM mam_messages GROUP BY owner_key`);
  await knex.raw(`${ignore} INTO mam_names (name_key, name) SELECT with_key, MIN(with_jid) FROM mam_messages GROUP BY with_key`);
  await knex.raw(`INSERT INTO mam_entries (seq, archive, id, with_id, with_resource, outgoing, created_at, stanza)
    SELECT m.seq, o.id, m.id, w.id, m.with_resource, m.outgoing, m.created_at, m.stanza
    FROM mam_messages m JOIN mam_names o ON o.name_key = m.owner_key JOIN mam_names w ON w.name_key = m.with_key
    ORDER BY m.seq`);
  await knex.schema.dropTable('mam_messages');
}
