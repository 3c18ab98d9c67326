// Latencies in fixed 10 µs buckets up to 10 s: recording is an array increment (no
// allocation on the measured path) and percentiles are exact to the bucket width.

const BUCKETS_PER_MS = 100;
const LAST = 10_000 * BUCKETS_PER_MS;

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(LAST + 1);
  count = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(ms: number): void {
    const i = ms <= 0 ? 0 : Math.min(LAST, Math.floor(ms * BUCKETS_PER_MS));
    this.buckets[i]!++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }

  /** Upper edge of the bucket holding the p-th percentile (0 < p <= 100), in ms. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i <= LAST; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return i === LAST ? this.maxMs : (i + 1) / BUCKETS_PER_MS;
    }
    return this.maxMs;
  }

  summary(): { count: number; meanMs: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number } {
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      count: this.count,
      meanMs: round(this.count ? this.sumMs / this.count : NaN),
      p50Ms: round(this.percentile(50)),
      p90Ms: round(this.percentile(90)),
      p99Ms: round(this.percentile(99)),
      maxMs: round(this.maxMs),
    };
  }
}
