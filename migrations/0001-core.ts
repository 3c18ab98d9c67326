// The core tables, identical in meaning on SQLite and MySQL/MariaDB.
//
// Keys: a localpart may be 1023 bytes and a JID 3071 (RFC 7622); MySQL indexes at most 3072
// bytes and counts 4 per utf8mb4 character, so no such column can be indexed whole. Every
// user-supplied string that is a key is therefore indexed through a `*_key` column holding
// its SHA-256 in hex (server/storage/columns.ts), with the full value in an unindexed column
// beside it, sized for the RFC maximum. `username` is repeated in every table so that an
// operator can read the rows without computing hashes.
//
// Text in MySQL is utf8mb4 with the binary collation: values compare and sort by code
// point, as SQLite's BINARY collation does, and never case- or accent-insensitively.
// Instants are DATETIME(3) in UTC on MySQL and milliseconds since the epoch on SQLite.
// Ownership: rows of a user are deleted by the users repository in one transaction, not by
// foreign-key cascades, so both dialects behave the same.
import type { Knex } from 'knex';

const USERNAME = 1023; // characters; a localpart is at most 1023 bytes
const JID = 3071; // characters; a full JID is at most 3071 bytes
const KEY = 64; // hex SHA-256

export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.dialect === 'mysql';
  const table = (t: Knex.CreateTableBuilder): void => {
    if (!mysql) return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  const owner = (t: Knex.CreateTableBuilder): void => {
    t.string('user_key', KEY).notNullable();
    t.string('username', USERNAME).notNullable();
  };

  await knex.schema.createTable('users', (t) => {
    table(t);
    t.string('user_key', KEY).primary();
    t.string('username', USERNAME).notNullable();
    for (const hash of ['sha1', 'sha256']) {
      t.string(`${hash}_salt`, 255).notNullable();
      t.integer(`${hash}_iterations`).notNullable();
      t.string(`${hash}_stored_key`, 255).notNullable();
      t.string(`${hash}_server_key`, 255).notNullable();
    }
    t.datetime('created_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('roster_items', (t) => {
    table(t);
    owner(t);
    t.string('jid_key', KEY).notNullable();
    t.string('jid', JID).notNullable();
    t.text('name');
    t.string('subscription', 4).notNullable();
    t.boolean('ask_out').notNullable();
    t.boolean('ask_in').notNullable();
    t.text('ask_in_stanza', 'mediumtext');
    t.boolean('approved').notNullable();
    t.boolean('added').notNullable();
    t.text('group_names').notNullable(); // JSON array of strings
    t.primary(['user_key', 'jid_key']);
  });

  await knex.schema.createTable('roster_versions', (t) => {
    table(t);
    t.string('user_key', KEY).primary();
    t.string('username', USERNAME).notNullable();
    t.bigInteger('version').notNullable();
  });

  await knex.schema.createTable('offline_messages', (t) => {
    table(t);
    t.bigIncrements('id');
    owner(t);
    t.text('stanza', 'mediumtext').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['user_key'], 'offline_messages_user_key');
  });

  await knex.schema.createTable('private_xml', (t) => {
    table(t);
    owner(t);
    t.string('ns_key', KEY).notNullable();
    t.text('ns').notNullable();
    t.text('xml', 'mediumtext').notNullable();
    t.primary(['user_key', 'ns_key']);
  });

  await knex.schema.createTable('vcards', (t) => {
    table(t);
    t.string('user_key', KEY).primary();
    t.string('username', USERNAME).notNullable();
    t.text('xml', 'mediumtext').notNullable();
  });

  await knex.schema.createTable('blocklist', (t) => {
    table(t);
    owner(t);
    t.string('jid_key', KEY).notNullable();
    t.string('jid', JID).notNullable();
    t.primary(['user_key', 'jid_key']);
  });

  await knex.schema.createTable('last_activity', (t) => {
    table(t);
    t.string('user_key', KEY).primary();
    t.string('username', USERNAME).notNullable();
    t.datetime('at', { precision: 3 }).notNullable();
    t.text('status').notNullable();
  });

  // Property names come from the typed registry (ASCII, dotted), so they are indexed whole.
  await knex.schema.createTable('properties', (t) => {
    table(t);
    t.string('name', 191).primary();
    t.text('value').notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
  });

  // One row counting every set and unset, so a node polling the fingerprint sees removals
  // and same-millisecond updates that count and newest update time would miss.
  await knex.schema.createTable('property_changes', (t) => {
    table(t);
    t.integer('id').primary();
    t.bigInteger('changes').notNullable();
  });
  await knex('property_changes').insert({ id: 1, changes: 0 });
}
