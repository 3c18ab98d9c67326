// Counts attempts per key (an IP address) over a sliding window, to bound how fast one
// address can create accounts. The window is read at each use, so a change applies at once.
export class RateLimit {
  private readonly hits = new Map<string, number[]>();

  constructor(
    /** The window's length in milliseconds, now. */
    private readonly windowMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an attempt and returns true, or returns false if `limit` were already made within the window. */
  take(key: string, limit: number): boolean {
    const now = this.now();
    const recent = this.recent(key, now);
    if (recent.length >= limit) return false;
    recent.push(now);
    this.hits.set(key, recent);
    return true;
  }

  /** Forgets keys with no attempt inside the window (call now and then to bound memory). */
  sweep(): void {
    const now = this.now();
    for (const key of [...this.hits.keys()]) {
      if (!this.recent(key, now).length) this.hits.delete(key);
    }
  }

  get size(): number {
    return this.hits.size;
  }

  private recent(key: string, now: number): number[] {
    const cutoff = now - this.windowMs();
    const list = (this.hits.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length) this.hits.set(key, list);
    return list;
  }
}
