// Group chat (XEP-0045): the persistent rooms of the MUC service and their affiliations.
// Rooms that are not persistent never reach these tables: they live in memory only.
//
// A room is keyed by its name (the localpart of its JID, hashed as every indexed user string
// is: see 0001-core.ts); its configuration is a small JSON document, so that a new option
// needs no migration. An affiliation is keyed by room and bare JID; the JID's key is indexed
// on its own too, so that deleting an account finds its affiliations in every room.
import type { Knex } from 'knex';

const JID = 3071;
const KEY = 64;

export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.dialect === 'mysql';
  const table = (t: Knex.CreateTableBuilder): void => {
    if (!mysql) return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };

  await knex.schema.createTable('muc_rooms', (t) => {
    table(t);
    t.string('room_key', KEY).primary();
    t.text('room').notNullable();
    t.text('config', 'mediumtext').notNullable();
    t.text('subject', 'mediumtext').notNullable();
    // The occupant nick that set the subject, empty for the room itself.
    t.text('subject_by').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('muc_affiliations', (t) => {
    table(t);
    t.string('room_key', KEY).notNullable();
    t.string('jid_key', KEY).notNullable();
    t.string('jid', JID).notNullable();
    t.string('affiliation', 16).notNullable();
    t.text('reason').notNullable();
    t.unique(['room_key', 'jid_key'], { indexName: 'muc_affiliations_room_jid' });
    t.index(['jid_key'], 'muc_affiliations_jid');
  });
}
