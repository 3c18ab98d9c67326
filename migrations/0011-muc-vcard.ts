// Group chat room avatars (XEP-0486): a persistent room's vCard (XEP-0054), serialized as
// the owner set it, in its row of muc_rooms. Null for a room without one, as every room
// stored before this migration is. The vCard is bounded by xmpp.vcard.max-bytes (64 KiB by
// default, up to 16 MiB), hence mediumtext on MariaDB as for the rooms' other documents.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('muc_rooms', (t) => {
    t.text('vcard', 'mediumtext').nullable();
  });
}
