// Message archives (migrations/0010-archive-numbers.ts). Every query names one archive by
// its owner's number and walks it by position (seq), so a page costs one range read of an
// index whatever the size of the archive; counts are bounded for the same reason.
import type { Knex } from 'knex';
import type { ArchiveAppender } from './archive-append-thread.ts';
import { keyOf, toCount, toDate } from './columns.ts';
import type { ArchiveDefault, ArchivedMessage, ArchiveEntry, ArchiveFilter, ArchivePrefs, ArchiveRepository } from './types.ts';

const TABLE = 'mam_entries';
const NAMES = 'mam_names';
/** Rows per INSERT: well under SQLite's 32766 bound variables (7 per row) and MySQL's packet size. */
const INSERT_CHUNK = 1000;
const DELETE_CHUNK = 1000;
/**
 * Names whose numbers are kept in memory. A busy node names the same accounts and contacts
 * in every batch; past this many the memory is emptied and filled again from the database.
 */
const NAME_CACHE = 100_000;

interface Row {
  seq: number | string;
  id: string;
  with_jid: string;
  with_resource: string | null;
  outgoing: number | boolean;
  created_at: unknown;
  stanza: string;
}

const COLUMNS = 'archive, id, with_id, with_resource, outgoing, created_at, stanza';
const ROW = '(?, ?, ?, ?, ?, ?, ?)';

const DEFAULTS: readonly ArchiveDefault[] = ['always', 'roster', 'never'];

export class SqlArchiveRepository implements ArchiveRepository {
  /** Name (owner or contact) to its number in mam_names; numbers never change once given. */
  private readonly numbers = new Map<string, number>();

  /** With an appender, rows are written by it (archive-append-thread.ts) and not over `knex`. */
  constructor(
    private readonly knex: Knex,
    private readonly appender?: ArchiveAppender,
  ) {}

  async append(entries: readonly ArchiveEntry[]): Promise<void> {
    if (!entries.length) return;
    if (this.appender) return this.appender.append(entries);
    const names = new Set<string>();
    for (const e of entries) {
      names.add(e.owner);
      names.add(e.with);
    }
    const numbers = await this.number([...names], true);
    // One multi-row INSERT per chunk, numbered in row order by both dialects, so the archive
    // keeps the order the entries were given in. Written as VALUES lists by hand: knex's
    // SQLite form (SELECT ... UNION ALL SELECT ...) costs several times as much to plan.
    const write = async (db: Knex | Knex.Transaction): Promise<void> => {
      for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
        const chunk = entries.slice(i, i + INSERT_CHUNK);
        const bindings: unknown[] = [];
        for (const e of chunk) {
          bindings.push(numbers.get(e.owner)!, e.id, numbers.get(e.with)!, e.withResource, e.outgoing, this.instant(e.at), e.stanza);
        }
        await db.raw(`insert into ${TABLE} (${COLUMNS}) values ${chunk.map(() => ROW).join(',')}`, bindings as Knex.RawBinding[]);
      }
    };
    // Several chunks go in one transaction: one commit instead of one per chunk.
    if (entries.length > INSERT_CHUNK) await this.knex.transaction(write);
    else await write(this.knex);
  }

  /**
   * The numbers of the names that have one, looked up for those not yet in memory; with
   * `create`, names the database does not know either are given one (two nodes may do so
   * at once: the unique key keeps one number per name, and both read that one back).
   */
  private async number(names: readonly string[], create: boolean): Promise<Map<string, number>> {
    // Its own map: another call may empty the memory while this one's caller still writes.
    const found = new Map<string, number>();
    const byKey = new Map<string, string>();
    for (const n of names) {
      const known = this.numbers.get(n);
      if (known === undefined) byKey.set(keyOf(n), n);
      else found.set(n, known);
    }
    if (!byKey.size) return found;
    if (this.numbers.size + byKey.size > NAME_CACHE) this.numbers.clear();
    const read = async (keys: string[]): Promise<string[]> => {
      const rows: { id: number | string; name_key: string }[] = await this.knex(NAMES).whereIn('name_key', keys).select('id', 'name_key');
      for (const r of rows) {
        const name = byKey.get(r.name_key)!;
        found.set(name, Number(r.id));
        this.numbers.set(name, Number(r.id));
      }
      return keys.filter((k) => !found.has(byKey.get(k)!));
    };
    const unknown = await read([...byKey.keys()]);
    if (!unknown.length || !create) return found;
    await this.knex(NAMES).insert(unknown.map((k) => ({ name_key: k, name: byKey.get(k)! }))).onConflict('name_key').ignore();
    await read(unknown);
    return found;
  }

  /** The number of a name that has one, or undefined: a name never numbered has no rows. */
  private async numberOf(name: string): Promise<number | undefined> {
    return (await this.number([name], false)).get(name);
  }

  /** A Date as knex would bind it: milliseconds on SQLite (columns.ts), a Date for mysql2. */
  private instant(at: Date): Date | number {
    return this.knex.client.dialect === 'mysql' ? at : at.getTime();
  }

  async position(owner: string, id: string): Promise<number | null> {
    const archive = await this.numberOf(owner);
    if (archive === undefined) return null;
    const row = await this.knex(TABLE).where({ archive, id }).first('seq');
    return row ? Number(row.seq) : null;
  }

  async page(owner: string, filter: ArchiveFilter, limit: number, backward: boolean): Promise<ArchivedMessage[]> {
    if (limit <= 0) return [];
    const matching = await this.matching(owner, filter);
    if (!matching) return [];
    const rows: Row[] = await matching.query
      .join(`${NAMES} as w`, 'w.id', `${TABLE}.with_id`)
      .orderBy(`${TABLE}.seq`, backward ? 'desc' : 'asc')
      .limit(limit)
      .select(`${TABLE}.seq`, `${TABLE}.id`, 'w.name as with_jid', 'with_resource', 'outgoing', 'created_at', 'stanza');
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: r.id,
      with: r.with_jid,
      withResource: r.with_resource,
      outgoing: Boolean(r.outgoing),
      at: toDate(r.created_at),
      stanza: r.stanza,
    }));
  }

  async count(owner: string, filter: ArchiveFilter, bound: number): Promise<number | null> {
    const matching = await this.matching(owner, filter);
    if (!matching) return 0;
    // Counting reads every matching index entry: stop one past the bound, so an archive of
    // millions costs what one of `bound` messages does.
    const inner = matching.query.select('seq').limit(bound + 1);
    const row = await this.knex.from(inner.as('matching')).count({ n: '*' }).first();
    const n = toCount(row?.n);
    return n > bound ? null : n;
  }

  async prefs(owner: string): Promise<ArchivePrefs | null> {
    const row = await this.knex('mam_prefs').where({ user_key: keyOf(owner) }).first('default_mode', 'always_jids', 'never_jids');
    if (!row) return null;
    const mode = DEFAULTS.includes(row.default_mode) ? (row.default_mode as ArchiveDefault) : 'always';
    return { default: mode, always: JSON.parse(row.always_jids) as string[], never: JSON.parse(row.never_jids) as string[] };
  }

  async setPrefs(owner: string, prefs: ArchivePrefs): Promise<void> {
    const row = {
      user_key: keyOf(owner),
      username: owner,
      default_mode: prefs.default,
      always_jids: JSON.stringify(prefs.always),
      never_jids: JSON.stringify(prefs.never),
    };
    await this.knex('mam_prefs').insert(row).onConflict('user_key').merge();
  }

  async purge(before: Date, limit: number): Promise<number> {
    const end = await this.firstSeqAtOrAfter(before);
    const rows: { seq: number | string }[] = await this.knex(TABLE)
      .modify((q) => { if (end !== null) q.where('seq', '<', end); })
      .orderBy('seq').limit(limit).select('seq');
    const seqs = rows.map((r) => Number(r.seq));
    let deleted = 0;
    for (let i = 0; i < seqs.length; i += DELETE_CHUNK) {
      deleted += await this.knex(TABLE).whereIn('seq', seqs.slice(i, i + DELETE_CHUNK)).delete();
    }
    return deleted;
  }

  /**
   * The first position whose message was archived at or after the instant, or null if all
   * are older: a binary search over seq, one indexed read per step. Positions are given in
   * the order rows are written, so their instants rise with them but for the clock
   * differences of nodes and the moments a write waits; a retention counted in days does
   * not see those.
   */
  private async firstSeqAtOrAfter(at: Date): Promise<number | null> {
    const bounds = await this.knex(TABLE).min({ lo: 'seq' }).max({ hi: 'seq' }).first();
    if (bounds?.lo === null || bounds?.lo === undefined) return null;
    let lo = Number(bounds.lo);
    let hi = Number(bounds.hi) + 1; // the answer is in [lo, hi]; hi means "none"
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = await this.knex(TABLE).where('seq', '>=', mid).orderBy('seq').first('seq', 'created_at');
      if (!row) {
        hi = mid;
      } else if (toDate(row.created_at).getTime() >= at.getTime()) {
        hi = mid;
      } else {
        lo = Number(row.seq) + 1;
      }
    }
    return hi > Number(bounds.hi) ? null : lo;
  }

  async deleteOwner(owner: string): Promise<void> {
    const archive = await this.numberOf(owner);
    // In chunks: one statement over a large archive would hold its locks (and, on MySQL,
    // grow the undo log) for as long as it runs. The owner's number stays (migration 0010).
    for (; archive !== undefined;) {
      const rows: { seq: number | string }[] = await this.knex(TABLE).where({ archive }).orderBy('seq').limit(DELETE_CHUNK).select('seq');
      if (!rows.length) break;
      await this.knex(TABLE).where({ archive }).whereIn('seq', rows.map((r) => Number(r.seq))).delete();
    }
    await this.knex('mam_prefs').where({ user_key: keyOf(owner) }).delete();
  }

  /**
   * The owner's messages that match the filter, or null when there can be none. (Wrapped:
   * a query builder is a thenable, which awaiting the answer would run.)
   */
  private async matching(owner: string, filter: ArchiveFilter): Promise<{ query: Knex.QueryBuilder } | null> {
    const archive = await this.numberOf(owner);
    if (archive === undefined) return null;
    const q = this.knex(TABLE).where({ archive });
    if (filter.with) {
      const withId = await this.numberOf(filter.with.bare);
      if (withId === undefined) return null;
      q.andWhere({ with_id: withId });
      if (filter.with.resource !== undefined) q.andWhere({ with_resource: filter.with.resource });
    }
    if (filter.start) q.andWhere('created_at', '>=', filter.start);
    if (filter.end) q.andWhere('created_at', '<=', filter.end);
    if (filter.afterSeq !== undefined) q.andWhere(`${TABLE}.seq`, '>', filter.afterSeq);
    if (filter.beforeSeq !== undefined) q.andWhere(`${TABLE}.seq`, '<', filter.beforeSeq);
    if (filter.ids) q.whereIn(`${TABLE}.id`, filter.ids.length ? [...filter.ids] : ['']);
    return { query: q };
  }
}
