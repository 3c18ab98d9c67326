// Account deletions, as a journal the nodes read (server/accounts/account-deletions.ts).
// Whoever deletes an account (a node's admin API or in-band removal, or `xmppd user del`,
// which runs without a server) removes the kernel's rows and adds an entry here in the same
// transaction. Every node polls the journal and ends its sessions of the account; one node
// claims the entry and runs the handlers modules and plugins registered for their own rows,
// then marks it finished. A name whose deletion is not finished cannot be taken again, so a
// new account never finds what the old one left in a plugin's table.
//
// Also an index on roster_items.jid_key: the contacts whose rosters name the deleted account
// are found through it.
import type { Knex } from 'knex';

const USERNAME = 1023;
const KEY = 64;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('account_deletions', (t) => {
    if (knex.client.dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    t.bigIncrements('id');
    t.string('user_key', KEY).notNullable();
    t.string('username', USERNAME).notNullable();
    // Who deleted it: cli, admin-api, module (in-band removal).
    t.string('source', 16).notNullable();
    t.datetime('deleted_at', { precision: 3 }).notNullable();
    t.string('claimed_by', 64);
    t.datetime('claimed_at', { precision: 3 });
    t.datetime('finished_at', { precision: 3 });
    t.index(['user_key'], 'account_deletions_user_key');
  });
  await knex.schema.alterTable('roster_items', (t) => {
    t.index(['jid_key'], 'roster_items_jid_key');
  });
}
