// Slows password guessing against the admin API: failed logins are counted per client
// address and per account within a window, and once either reaches the limit further
// attempts are refused before any password is checked (so a flood costs no PBKDF2), until
// the oldest counted failure leaves the window. Counting per account too stops a guesser
// who spreads the attempts over many addresses; the price is that such a guesser can keep an
// administrator out of the console for a window, which Openfire and ejabberd accept as well.

export interface LoginThrottleLimits {
  /** Failures allowed per key within the window; 0 turns the throttle off. */
  maxFailures(): number;
  windowSeconds(): number;
}

/** Keys beyond this are forgotten oldest first, so a spray of addresses cannot grow memory. */
const MAX_KEYS = 10_000;

export class LoginThrottle {
  /** Failure times (ms) per key, oldest first; Map order is least recently failed first. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: LoginThrottleLimits, private readonly now: () => number = Date.now) {}

  /** Seconds until one of the keys may try again, or 0 if all may try now. */
  retryAfter(keys: readonly string[]): number {
    const max = this.limits.maxFailures();
    if (max === 0) return 0;
    let wait = 0;
    for (const key of keys) {
      const times = this.recent(key);
      if (times.length >= max) {
        // Free again when enough of the oldest failures have left the window.
        const freeAt = times[times.length - max]! + this.limits.windowSeconds() * 1000;
        wait = Math.max(wait, Math.ceil((freeAt - this.now()) / 1000));
      }
    }
    return wait;
  }

  failed(keys: readonly string[]): void {
    if (this.limits.maxFailures() === 0) return;
    for (const key of keys) {
      const times = this.recent(key);
      times.push(this.now());
      this.failures.delete(key);
      this.failures.set(key, times);
    }
    while (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A successful login clears the count of its address and account. */
  succeeded(keys: readonly string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  /** The failures of a key still inside the window (pruned in place). */
  private recent(key: string): number[] {
    const times = this.failures.get(key) ?? [];
    const since = this.now() - this.limits.windowSeconds() * 1000;
    while (times.length && times[0]! <= since) times.shift();
    if (!times.length) this.failures.delete(key);
    return times;
  }
}
