// Rosters between the modules and storage. Presence broadcast and subscription checks read
// a roster for nearly every presence stanza, so the roster of each account with a session
// on this node is kept in memory, written through on every change and forgotten when its
// last session here closes. Accounts without a session here are read from storage.
//
// All changes to one account's roster run through `queue`, one at a time on this node, and
// through `change`, which makes them hold against the other nodes of a cluster too; each
// announces itself with a roster/changed event.
import { JID } from '../../jid/jid.ts';
import type { SessionClosedEvent } from '../../session/session-manager.ts';
import type { RosterItem, RosterRepository } from '../../storage/types.ts';
import type { Kernel } from '../../extension/kernel.ts';
import type { ModuleContext } from '../../extension/module-context.ts';
import { KeyedQueue } from '../../util/keyed-queue.ts';
import { ROSTER_CHANGED, ROSTER_INVALIDATE, type RosterChangedEvent, type RosterInvalidateEvent } from './roster-events.ts';

export interface Roster {
  /** By bare JID of the contact. */
  readonly items: Map<string, RosterItem>;
  version: string;
}

interface Cached {
  ready: Promise<Roster>;
  /** Set once loaded; changes made before that wait in `pending`. */
  value: Roster | null;
  pending: RosterChangedEvent[];
}

/** What a change to one item decided from the item as stored. */
export interface ItemChange {
  /** The item to store, or null to remove it; left out, storage stays as it is. */
  write?: RosterItem | null;
  /** What follows from the decision (the stanzas it sends), run once it holds. */
  after?: () => void;
}

/** Attempts of one change that other nodes' changes may overtake before it gives up. */
const MAX_ATTEMPTS = 10;

function update(roster: Roster, change: RosterChangedEvent): void {
  if (change.item) roster.items.set(change.jid, change.item);
  else roster.items.delete(change.jid);
  roster.version = change.version;
}

export class RosterStore {
  private readonly cache = new Map<string, Cached>();
  /** Serializes everything that reads and then changes one account's roster. */
  readonly queue: KeyedQueue;
  private readonly detachers: (() => void)[] = [];

  private readonly kernel: Kernel;
  private readonly rosters: RosterRepository;

  /** Registers its cache upkeep through the roster module's context, so it ends with the module. */
  constructor(ctx: ModuleContext) {
    this.kernel = ctx.kernel;
    this.rosters = ctx.repository('roster');
    this.queue = new KeyedQueue((err) => ctx.log.error('roster work failed', { error: err instanceof Error ? err.stack : String(err) }));
    // Low priority: the presence module still reads the roster when a session closes.
    ctx.hook<SessionClosedEvent>('session/closed', ({ session }) => {
      if (session.jid.domain === this.kernel.domain && !this.hasLocalSession(session.jid.local)) this.forget(session.jid.local);
    }, -50);
    ctx.hook<RosterInvalidateEvent>(ROSTER_INVALIDATE, ({ username }) => this.forget(username));
    ctx.onUnload(() => this.cache.clear());
  }

  bareJid(username: string): JID {
    return JID.fromPrepared(username, this.kernel.domain);
  }

  /** The whole roster, hidden items included. */
  load(username: string): Promise<Roster> {
    const hit = this.cache.get(username);
    if (hit) return hit.ready;
    if (!this.hasLocalSession(username)) return this.read(username);
    const entry: Cached = { ready: this.read(username), value: null, pending: [] };
    // The rows may have been read before a change that finished meanwhile: apply it after.
    entry.ready = entry.ready.then((roster) => {
      for (const change of entry.pending.splice(0)) update(roster, change);
      entry.value = roster;
      return roster;
    });
    entry.ready.catch(() => {
      if (this.cache.get(username) === entry) this.cache.delete(username);
    });
    this.cache.set(username, entry);
    return entry.ready;
  }

  async get(username: string, jid: string): Promise<RosterItem | null> {
    if (this.cache.has(username) || this.hasLocalSession(username)) return (await this.load(username)).items.get(jid) ?? null;
    return this.rosters.get(username, jid);
  }

  /**
   * Reads the item for `jid`, lets `decide` say what becomes of it, and stores that as one
   * step against every node sharing the database: the write lands only if the roster is
   * still at the version that was read (compare-and-set); if another node changed it
   * meanwhile, the roster is read again from storage and `decide` asked again, so nothing
   * decided from a stale copy is stored or acted on. A decision to write nothing that was
   * made from this node's cached copy is checked against the stored version too while
   * clustered, since the copy may not have heard of another node's change yet. Called in
   * `queue`, changes on one node never conflict; the check is for the other nodes.
   */
  async change(username: string, jid: string, decide: (item: RosterItem | null) => ItemChange | Promise<ItemChange>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { item, version, cached } = await this.current(username, jid);
      const decision = await decide(item);
      const write = decision.write === null && item === null ? undefined : decision.write;
      const held = write !== undefined
        ? await this.write(username, jid, item, write, version)
        : !cached || !this.kernel.clustered() || (await this.rosters.version(username)) === version;
      if (held) {
        decision.after?.();
        return;
      }
      this.forget(username);
      if (attempt === MAX_ATTEMPTS) throw new Error(`the roster of ${username} kept changing on other nodes: gave up after ${attempt} attempts`);
    }
  }

  /** The item and the roster version it belongs to, from the cache when there is one. */
  private async current(username: string, jid: string): Promise<{ item: RosterItem | null; version: string; cached: boolean }> {
    if (this.cache.has(username) || this.hasLocalSession(username)) {
      const roster = await this.load(username);
      return { item: roster.items.get(jid) ?? null, version: roster.version, cached: true };
    }
    // Version first: an item read after it is at least as new, and a newer one fails the write.
    const version = await this.rosters.version(username);
    return { item: await this.rosters.get(username, jid), version, cached: false };
  }

  private async write(username: string, jid: string, previous: RosterItem | null, item: RosterItem | null, expected: string): Promise<boolean> {
    const version = await this.rosters.writeIfVersion(username, expected, jid, item);
    if (version === null) return false;
    this.changed({ username, jid, item, previous, version });
    return true;
  }

  private changed(change: RosterChangedEvent): void {
    this.apply(change);
    this.kernel.fire(ROSTER_CHANGED, change);
  }

  /** Brings a cached roster up to date (also for changes relayed from other nodes). */
  apply(change: RosterChangedEvent): void {
    const entry = this.cache.get(change.username);
    if (!entry) return;
    if (entry.value) update(entry.value, change);
    else entry.pending.push(change);
  }

  forget(username: string): void {
    this.cache.delete(username);
  }

  get cachedCount(): number {
    return this.cache.size;
  }

  /** Version first: a list read after it is at least as new, never older than it claims. */
  private async read(username: string): Promise<Roster> {
    const version = await this.rosters.version(username);
    const list = await this.rosters.list(username);
    return { items: new Map(list.map((item) => [item.jid, item])), version };
  }

  private hasLocalSession(username: string): boolean {
    return !this.kernel.localSessions(`${username}@${this.kernel.domain}`)[Symbol.iterator]().next().done;
  }
}
