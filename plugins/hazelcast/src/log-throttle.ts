// One warning per interval for a fault that repeats with every stanza: while a dead node is
// being detected (until its member entry expires), every delivery to it fails the same way.
// The first failure is logged at once; later ones at most once per interval, saying how many
// were left out since the previous line.

/** At most one line per this interval. */
export const LOG_INTERVAL_MS = 10_000;

export class LogThrottle {
  private lastAt: number | null = null;
  private left = 0;

  constructor(
    private readonly intervalMs = LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `write` with the count left out since the last line, when a line is due. */
  hit(write: (leftOut: number) => void): void {
    const t = this.now();
    if (this.lastAt !== null && t - this.lastAt < this.intervalMs) {
      this.left++;
      return;
    }
    const leftOut = this.left;
    this.left = 0;
    this.lastAt = t;
    write(leftOut);
  }
}
