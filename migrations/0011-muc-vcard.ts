// Group chat: room avatars (XEP-0486) and registered nicks (XEP-0045 7.10).
//
// A persistent room's vCard (XEP-0054) is kept, serialized as the owner set it, in its row
// of muc_rooms; null for a room without one, as every room stored before this migration
// is. It is bounded by xmpp.vcard.max-bytes (64 KiB by default, up to 16 MiB), hence
// mediumtext on MariaDB as for the rooms' other documents.
//
// A nick registered with a room belongs to a member (an admin, an owner) and goes with the
// membership, so it is a column of the member's affiliation row; null for none. Rooms look
// nicks up in memory, so it needs no index.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('muc_rooms', (t) => {
    t.text('vcard', 'mediumtext').nullable();
  });
  await knex.schema.alterTable('muc_affiliations', (t) => {
    t.text('nick').nullable();
  });
}
