// Moves a database's data from one XMPP domain to another (`xmppd migrate --rename-domain`):
// the JIDs stored in the kernel's tables are rewritten, in one transaction together with the
// served-domain row, so the database belongs to one domain or the other and never to half of
// each. What a JID is, and how a stanza or a property holds one, is the caller's knowledge
// (the rewriter); this file knows where they are stored.
//
// Rewritten: roster items (the contact's JID, and the stanza of a pending request), block
// lists, offline messages (their addresses, and their size), stored properties. Left alone:
// vCards, private XML and PEP items (documents written by clients, which may mention JIDs
// anywhere; an item's publisher and a node's affiliations are read by nobody but the owner),
// and plugins' own tables.
import type { Knex } from 'knex';
import { keyOf } from './columns.ts';
import { recordServedDomain } from './served-domain.ts';

export interface DomainRewriter {
  /** The JID on the new domain, or null if it is not on the old one. */
  jid(jid: string): string | null;
  /** A serialized stanza with its addresses rewritten, or null if none was on the old domain. */
  stanza(xml: string): string | null;
  /** A stored property value rewritten, or null if it holds nothing of the old domain. */
  property(name: string, value: string): string | null;
}

export interface DomainRenameReport {
  rosterItems: number;
  pendingRequests: number;
  blocklist: number;
  offlineMessages: number;
  properties: number;
}

const BATCH = 500;

/** Rows whose column mentions the old domain at all (the rewriter decides the rest), in key order. */
async function* candidates(trx: Knex.Transaction, table: string, keys: string[], columns: string[], needle: string): AsyncGenerator<Record<string, unknown>[]> {
  const pattern = `%${needle.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  let after: Knex.RawBinding[] | null = null;
  for (;;) {
    const q = trx(table).where((w) => {
      for (const c of columns) w.orWhereRaw(`?? like ? escape '!'`, [c, pattern]);
    });
    if (after) q.andWhereRaw(`(${keys.map(() => '??').join(', ')}) > (${keys.map(() => '?').join(', ')})`, [...keys, ...after]);
    const rows: Record<string, unknown>[] = await q.orderBy(keys).limit(BATCH).select('*');
    if (!rows.length) return;
    yield rows;
    after = keys.map((k) => rows[rows.length - 1]![k] as Knex.RawBinding);
  }
}

export async function renameDomainData(knex: Knex, from: string, to: string, rewrite: DomainRewriter): Promise<DomainRenameReport> {
  const report: DomainRenameReport = { rosterItems: 0, pendingRequests: 0, blocklist: 0, offlineMessages: 0, properties: 0 };
  await knex.transaction(async (trx) => {
    // Roster items: a contact's JID is part of the key. A contact already listed under its
    // new JID (a remote entry of the new domain, before) gives way to the renamed one,
    // whose subscription is the real one.
    const changedRosters = new Set<string>();
    for await (const rows of candidates(trx, 'roster_items', ['user_key', 'jid_key'], ['jid', 'ask_in_stanza'], from)) {
      for (const row of rows) {
        const jid = rewrite.jid(row.jid as string);
        const stanza = row.ask_in_stanza === null ? null : rewrite.stanza(row.ask_in_stanza as string);
        if (jid === null && stanza === null) continue;
        const update: Record<string, unknown> = {};
        if (jid !== null) {
          await trx('roster_items').where({ user_key: row.user_key, jid_key: keyOf(jid) }).delete();
          Object.assign(update, { jid, jid_key: keyOf(jid) });
          report.rosterItems++;
        }
        if (stanza !== null) {
          update.ask_in_stanza = stanza;
          report.pendingRequests++;
        }
        await trx('roster_items').where({ user_key: row.user_key, jid_key: row.jid_key }).update(update);
        changedRosters.add(row.user_key as string);
      }
    }
    // A client holding a cached roster (XEP-0237) must fetch it again.
    const owners = [...changedRosters];
    for (let i = 0; i < owners.length; i += BATCH) {
      await trx('roster_versions').whereIn('user_key', owners.slice(i, i + BATCH)).increment('version', 1);
    }

    for await (const rows of candidates(trx, 'blocklist', ['user_key', 'jid_key'], ['jid'], from)) {
      for (const row of rows) {
        const jid = rewrite.jid(row.jid as string);
        if (jid === null) continue;
        await trx('blocklist').where({ user_key: row.user_key, jid_key: keyOf(jid) }).delete();
        await trx('blocklist').where({ user_key: row.user_key, jid_key: row.jid_key }).update({ jid, jid_key: keyOf(jid) });
        report.blocklist++;
      }
    }

    for await (const rows of candidates(trx, 'offline_messages', ['id'], ['stanza'], from)) {
      for (const row of rows) {
        const stanza = rewrite.stanza(row.stanza as string);
        if (stanza === null) continue;
        await trx('offline_messages').where({ id: row.id }).update({ stanza, bytes: Buffer.byteLength(stanza, 'utf8') });
        report.offlineMessages++;
      }
    }

    const properties: { name: string; value: string }[] = await trx('properties').select('name', 'value');
    for (const { name, value } of properties) {
      const renamed = rewrite.property(name, value);
      if (renamed === null || renamed === value) continue;
      await trx('properties').where({ name }).update({ value: renamed, updated_at: new Date() });
      report.properties++;
    }
    // Nodes notice property changes by this counter (property-repository.ts).
    if (report.properties) await trx('property_changes').where({ id: 1 }).increment('changes', 1);

    await recordServedDomain(trx, to);
  });
  return report;
}
