// Blocklists in memory, so that the check on every routed stanza is a map lookup. Lists of
// users with sessions on this node stay cached; others are loaded on demand (a stanza to an
// offline user) and forgotten after a while. Changes made through this node update the
// cache as they are stored.
//
// Cluster note: a change made on another node reaches this node's cached copy only when the
// entry expires or the user's sessions here go; cluster-wide invalidation is for later.
import type { BlocklistRepository } from '../../storage/types.ts';

const EMPTY: ReadonlySet<string> = new Set();

export class BlocklistCache {
  private readonly lists = new Map<string, ReadonlySet<string>>();
  private readonly loadedAt = new Map<string, number>();
  private readonly loading = new Map<string, Promise<ReadonlySet<string>>>();
  /** Bumped by every replace(), so that a load that started before it does not undo it. */
  private readonly generation = new Map<string, number>();
  /** Per user, so that changes are stored and cached in the order they were asked for. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly repo: BlocklistRepository) {}

  /** The cached list, or undefined if it must be loaded first. */
  peek(username: string): ReadonlySet<string> | undefined {
    return this.lists.get(username);
  }

  get(username: string): Promise<ReadonlySet<string>> {
    const cached = this.lists.get(username);
    if (cached) return Promise.resolve(cached);
    let pending = this.loading.get(username);
    if (!pending) {
      const gen = this.generation.get(username) ?? 0;
      pending = this.repo.list(username).then((jids) => {
        const list = jids.length ? new Set(jids) : EMPTY;
        if ((this.generation.get(username) ?? 0) === gen) this.store(username, list);
        return this.lists.get(username) ?? list;
      }).finally(() => this.loading.delete(username));
      this.loading.set(username, pending);
    }
    return pending;
  }

  /**
   * Runs a change of one user's list (a storage write) after the previous one, then caches
   * the stored list as it is afterwards. Resolves with the list before and after.
   */
  change(username: string, write: (before: ReadonlySet<string>) => Promise<void>): Promise<{ before: ReadonlySet<string>; after: ReadonlySet<string> }> {
    const run = async (): Promise<{ before: ReadonlySet<string>; after: ReadonlySet<string> }> => {
      const before = await this.get(username);
      await write(before);
      const jids = await this.repo.list(username);
      const after = jids.length ? new Set(jids) : EMPTY;
      this.generation.set(username, (this.generation.get(username) ?? 0) + 1);
      this.store(username, after);
      return { before, after };
    };
    const previous = this.queues.get(username) ?? Promise.resolve();
    const next = previous.then(run, run);
    const tail = next.catch(() => undefined);
    this.queues.set(username, tail);
    void tail.then(() => {
      if (this.queues.get(username) === tail) this.queues.delete(username);
    });
    return next;
  }

  /** Forgets entries loaded more than `maxAgeMs` ago, except those `keep` says to keep. */
  sweep(maxAgeMs: number, keep: (username: string) => boolean): void {
    const oldest = Date.now() - maxAgeMs;
    for (const [username, at] of this.loadedAt) {
      if (at < oldest && !keep(username)) this.forget(username);
    }
  }

  forget(username: string): void {
    this.lists.delete(username);
    this.loadedAt.delete(username);
  }

  get size(): number {
    return this.lists.size;
  }

  private store(username: string, list: ReadonlySet<string>): void {
    this.lists.set(username, list);
    this.loadedAt.set(username, Date.now());
  }
}
