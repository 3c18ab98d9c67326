// Work for one key (an account) runs one piece at a time, in arrival order: a subscription
// change must not interleave with another for the same account, and a message must not
// overtake an earlier one that waits for a storage lookup. When nothing is queued for the
// key, work runs at once, synchronously, so the common case costs one map lookup. The order
// is this node's: what must also hold against other nodes needs its own check in storage
// (the roster's compare-and-set on its version).

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs `fn` now if the key is idle, otherwise after the work queued before it. Errors go to onError. */
  run(key: string, fn: () => void | Promise<void>): void {
    const tail = this.tails.get(key);
    if (tail !== undefined) {
      this.track(key, tail.then(fn), this.onError);
      return;
    }
    let out: void | Promise<void>;
    try {
      out = fn();
    } catch (err) {
      this.onError(err);
      return;
    }
    if (out instanceof Promise) this.track(key, out, this.onError);
  }

  /** Like run(), for a caller that wants the result or the error itself. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const tail = this.tails.get(key);
    const result = tail === undefined ? fn() : tail.then(fn);
    this.track(key, result, () => {});
    return result;
  }

  /** True while work for the key is queued or running. */
  pending(key: string): boolean {
    return this.tails.has(key);
  }

  /** Number of keys with work in progress (for tests and metrics). */
  get busy(): number {
    return this.tails.size;
  }

  private track(key: string, work: Promise<unknown>, onError: (err: unknown) => void): void {
    const settled = work.then(() => {}, onError);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
  }
}
