// Messages for an account that is without a route only for a moment: its node is briefly out
// of the cluster (clustering switched off and on, a plugin upgrade, a Hazelcast outage, a node
// taken for dead while it was frozen), or this node is. The clustering plugin knows which
// accounts may get a route back soon and says so (expect); a message to one of them waits
// for the route, up to the deadline the plugin gave, instead of going to offline storage, and
// goes out as soon as the route is back. After the deadline RFC 6121's fallback applies.
//
// What waits is bounded (maxHeld messages for the node); past that, messages take the
// fallback at once. A held message lives in this node's memory only: if the node dies, it is
// lost, as one in a socket buffer would be.

/** Most messages held at once on one node. */
export const MAX_HELD_MESSAGES = 10_000;
/** How often held accounts are checked for a route. */
const CHECK_MS = 100;
/** Every how many checks the expected accounts that are back are forgotten. */
const SWEEP_EVERY = 10;

interface Held {
  deadline: number;
  /** Waiting messages, in arrival order; each is released once. */
  waiting: (() => void)[];
}

export class RouteHold {
  /** Account (bare JID) -> until when a route is expected for it. */
  private readonly expected = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  private count = 0;
  private checks = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Whether the account has a route a message to its bare JID would take. */
    private readonly hasRoute: (bareJid: string) => boolean,
    private readonly maxHeld = MAX_HELD_MESSAGES,
  ) {}

  /**
   * A route for each of these accounts may be back within `forMs`: messages wait that long.
   * Call it once their routes are gone: an account found with a route is forgotten.
   */
  expect(bareJids: Iterable<string>, forMs: number): void {
    if (forMs <= 0) return;
    const deadline = Date.now() + forMs;
    for (const bare of bareJids) {
      if ((this.expected.get(bare) ?? 0) < deadline) this.expected.set(bare, deadline);
    }
    this.start();
  }

  /** Messages waiting now (for /status and tests). */
  get size(): number {
    return this.count;
  }

  /**
   * Holds one message for `bareJid`: resolves once the account has a route again or its
   * deadline passed, and the caller then delivers it as if it had just arrived. Null when no
   * hold applies: the account is not expected (or `noRoute` is false and nothing of it waits
   * already), its deadline passed, or the node holds as many messages as it may. A message
   * to an account with messages waiting waits behind them even when the route is back, so
   * the account's messages keep their order.
   */
  wait(bareJid: string, noRoute: boolean): Promise<void> | null {
    const now = Date.now();
    let entry = this.held.get(bareJid);
    if (!entry) {
      const deadline = this.expected.get(bareJid);
      if (!noRoute || deadline === undefined || deadline <= now) return null;
      entry = { deadline, waiting: [] };
    }
    if (this.count >= this.maxHeld) return null;
    const ready = entry;
    this.held.set(bareJid, ready);
    this.count++;
    this.start();
    return new Promise<void>((resolve) => ready.waiting.push(resolve));
  }

  /** Releases everything (the node stops): each caller delivers or falls back now. */
  releaseAll(): void {
    this.expected.clear();
    for (const bare of [...this.held.keys()]) this.release(bare);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private start(): void {
    if (this.timer) return;
    // Not unref'd: held messages are work the process still has to do.
    this.timer = setInterval(() => this.check(), CHECK_MS);
  }

  private check(): void {
    const now = Date.now();
    for (const [bare, entry] of this.held) {
      if (this.hasRoute(bare) || entry.deadline <= now) this.release(bare);
    }
    if (++this.checks % SWEEP_EVERY === 0) this.sweep(now);
    if (this.held.size === 0 && this.expected.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private release(bare: string): void {
    const entry = this.held.get(bare);
    if (!entry) return;
    this.held.delete(bare);
    // The account is back (or given up on): a later message to it takes the normal path.
    this.expected.delete(bare);
    this.count -= entry.waiting.length;
    for (const resolve of entry.waiting) resolve();
  }

  /**
   * Forgets accounts past their deadline, and those back already, so that one that logs out
   * later is not held for the rest of its deadline.
   */
  private sweep(now: number): void {
    for (const [bare, deadline] of this.expected) {
      if (this.held.has(bare)) continue;
      if (deadline <= now || this.hasRoute(bare)) this.expected.delete(bare);
    }
  }
}
