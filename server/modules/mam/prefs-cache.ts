// Each node keeps the archiving preferences of the accounts it archives for, so that the
// common message costs no read: a bounded map, oldest entry dropped first. A change made on
// one node is written to the database and announced; the other nodes forget their copy.
import type { ArchivePrefs, ArchiveRepository } from '../../storage/types.ts';

export class PrefsCache {
  /** null: the account has none stored and follows the server's default. */
  private readonly entries = new Map<string, ArchivePrefs | null>();
  /** Bumped by every change, so that a read that started before it does not cache stale prefs. */
  private generation = 0;

  constructor(private readonly archive: ArchiveRepository, private readonly capacity: () => number) {}

  /** The cached preferences (null: none stored), or undefined if they must be read. */
  peek(owner: string): ArchivePrefs | null | undefined {
    return this.entries.get(owner);
  }

  async get(owner: string): Promise<ArchivePrefs | null> {
    const hit = this.entries.get(owner);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const prefs = await this.archive.prefs(owner);
    if (generation === this.generation) this.remember(owner, prefs);
    return prefs;
  }

  set(owner: string, prefs: ArchivePrefs): void {
    this.generation++;
    this.entries.delete(owner);
    this.remember(owner, prefs);
  }

  forget(owner: string): void {
    this.generation++;
    this.entries.delete(owner);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  private remember(owner: string, prefs: ArchivePrefs | null): void {
    const capacity = this.capacity();
    if (capacity <= 0) return;
    while (this.entries.size >= capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(owner, prefs);
  }
}
