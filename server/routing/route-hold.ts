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
/** How long a delivery that failed over the cluster link waits before it is tried again. */
const RETRY_MS = 250;
/**
 * How long after its first failure a delivery is tried again although no route is expected:
 * long enough for the clustering plugin to say that the node is leaving (which follows the
 * link's closing within milliseconds), short enough that a message for a node that died
 * reaches offline storage without a noticeable delay beyond the death's detection.
 */
const RETRY_GRACE_MS = 1_000;
/** How often held accounts are checked for a route. */
const CHECK_MS = 100;
/** Every how many checks the expected accounts that are back are forgotten. */
const SWEEP_EVERY = 10;
/**
 * How long an expectation stands even though the account has a route: the plugin may say
 * so just before the routes go (it must, when this node leaves: messages would otherwise
 * slip through between the switch of tables and its call).
 */
const MIN_EXPECTED_MS = 2_000;

interface Held {
  deadline: number;
  /** Waiting messages, in arrival order; each is released once. */
  waiting: (() => void)[];
}

export class RouteHold {
  /** Account (bare JID) -> until when a route is expected for it, and since when. */
  private readonly expected = new Map<string, { until: number; since: number }>();
  private readonly held = new Map<string, Held>();
  /** Deliveries waiting to be tried again (retry), with their timers. */
  private readonly retrying = new Map<() => void, NodeJS.Timeout>();
  private count = 0;
  private checks = 0;
  /** The node stops: nothing is held any more. */
  private closed = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Whether the account has a route a message to its bare JID would take. */
    private readonly hasRoute: (bareJid: string) => boolean,
    private readonly maxHeld = MAX_HELD_MESSAGES,
  ) {}

  /**
   * A route for each of these accounts may be back within `forMs`: messages wait that long.
   * An account found with a route some seconds later is forgotten (it is back).
   */
  expect(bareJids: Iterable<string>, forMs: number): void {
    if (forMs <= 0 || this.closed) return;
    const now = Date.now();
    const until = now + forMs;
    for (const bare of bareJids) {
      if ((this.expected.get(bare)?.until ?? 0) < until) this.expected.set(bare, { until, since: now });
    }
    this.start();
  }

  /** Whether a route for the account is expected back (its deadline has not passed). */
  expects(bareJid: string): boolean {
    return (this.expected.get(bareJid)?.until ?? 0) > Date.now();
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
      const deadline = this.expected.get(bareJid)?.until;
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

  /**
   * A delivery to one of the account's routes failed (its node's link went away under it, as
   * during an upgrade of the clustering plugin) while a route is expected back: resolves after
   * `afterMs`, for the caller to try again, without giving up the expectation as a released
   * hold does (the failed route may still be listed, so "has a route" says nothing). The
   * first failures come before anything says the node is out, so a delivery that first failed
   * less than `graceMs` ago is tried again even when nothing is expected. Null when neither
   * applies (the account is not expected, or its deadline would pass first) or the hold is full.
   */
  retry(bareJid: string, firstFailedAt: number, afterMs = RETRY_MS, graceMs = RETRY_GRACE_MS): Promise<void> | null {
    const now = Date.now();
    const deadline = Math.max(this.expected.get(bareJid)?.until ?? 0, firstFailedAt + graceMs);
    if (this.closed || deadline <= now + afterMs || this.count >= this.maxHeld) return null;
    this.count++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.retrying.delete(resolve);
        this.count--;
        resolve();
      }, afterMs);
      this.retrying.set(resolve, timer);
    });
  }

  /** Releases everything for good (the node stops): each caller delivers or falls back now. */
  releaseAll(): void {
    this.closed = true;
    this.expected.clear();
    for (const bare of [...this.held.keys()]) this.release(bare);
    for (const [resolve, timer] of this.retrying) {
      clearTimeout(timer);
      this.count--;
      resolve();
    }
    this.retrying.clear();
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
    for (const [bare, { until, since }] of this.expected) {
      if (this.held.has(bare)) continue;
      if (until <= now || (now - since >= MIN_EXPECTED_MS && this.hasRoute(bare))) this.expected.delete(bare);
    }
  }
}
