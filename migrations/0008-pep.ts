// Personal Eventing (XEP-0163): each account's PEP nodes and their items, and the shared
// cache of entity capabilities (XEP-0115) that tells which resources want which
// notifications.
//
// A node is keyed by its owner and its name (both hashed, as every indexed user string is:
// see 0001-core.ts); its configuration is a small JSON document, so that a new option needs
// no migration. Items are kept per node in publication order (`seq`), with the item id
// hashed for the unique index. The caps cache is keyed by the verification string, which
// is itself a hash of what it stands for, so every node of a cluster may trust a row any
// node wrote.
import type { Knex } from 'knex';

const USERNAME = 1023;
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

  await knex.schema.createTable('pep_nodes', (t) => {
    table(t);
    t.bigIncrements('id');
    t.string('user_key', KEY).notNullable();
    t.string('username', USERNAME).notNullable();
    t.string('node_key', KEY).notNullable();
    t.text('node').notNullable();
    t.text('config').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.unique(['user_key', 'node_key'], { indexName: 'pep_nodes_owner_node' });
  });

  await knex.schema.createTable('pep_items', (t) => {
    table(t);
    t.bigIncrements('seq');
    t.bigInteger('node_id').notNullable();
    t.string('item_key', KEY).notNullable();
    t.text('item_id').notNullable();
    t.text('payload', 'mediumtext').notNullable();
    t.string('publisher', JID).notNullable();
    t.datetime('published_at', { precision: 3 }).notNullable();
    t.unique(['node_id', 'item_key'], { indexName: 'pep_items_node_item' });
  });

  await knex.schema.createTable('caps_features', (t) => {
    table(t);
    // hash algorithm and verification string, e.g. "sha-1 QgayPKawpkPSDYmwT/WM94uAlu0="
    t.string('ver_key', KEY).primary();
    t.text('ver').notNullable();
    // JSON: { identities: [...], features: [...] } as the resource announced them
    t.text('info', 'mediumtext').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
  });
}
