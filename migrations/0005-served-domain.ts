// The XMPP domain whose data the database holds. Accounts, rosters, block lists and stored
// stanzas are written for one domain; a node configured for another must not serve them as
// its own. The first node to start records its domain here (server/storage/served-domain.ts)
// and every later start compares; `xmppd migrate --rename-domain OLD NEW` rewrites the data
// and this row together. One row, id 1.
import type { Knex } from 'knex';

const DOMAIN = 1023; // characters; a domainpart is at most 1023 bytes (RFC 7622)

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('served_domain', (t) => {
    if (knex.client.dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    t.integer('id').primary();
    t.string('domain', DOMAIN).notNullable();
    t.datetime('recorded_at', { precision: 3 }).notNullable();
  });
}
