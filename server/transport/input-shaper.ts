// A token bucket for what one client may send: `rate` bytes per second on average, up to
// `burst` bytes at once (a login, an avatar). A transport asks after each chunk it read how
// long to stop reading; while it does not read, the kernel's receive buffer and TCP's window
// slow the sender down, so a flood costs this node nothing but a timer. Like ejabberd's
// c2s shaper and Prosody's mod_limits.

export class InputShaper {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly burst: number, now = Date.now()) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `bytes` from the bucket; returns the milliseconds to pause reading (0: read on). */
  take(bytes: number, now = Date.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }
}
