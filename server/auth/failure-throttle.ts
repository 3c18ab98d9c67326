// Slows password guessing: failed logins are counted per key (an account, a client address)
// within a sliding window, and once a key has reached its limit further attempts are refused
// before any password is checked (so a flood costs no PBKDF2 and tells nothing), until enough
// of the counted failures have left the window. Counting per account too stops a guesser who
// spreads the attempts over many addresses; the price is that such a guesser can keep the
// owner of an account from logging in for a window, which Openfire and ejabberd accept as well.
//
// Where the failures are kept is a FailureStore: this node's memory (the admin API), or the
// database every node shares (XMPP SASL, see storage/auth-failure-repository.ts), so that a
// guesser gains nothing by spreading attempts over the nodes of a cluster.
import net from 'node:net';
import { KeyedQueue } from '../util/keyed-queue.ts';

export interface ThrottleKey {
  /** What is counted: `account:<prepared username>` or `address:<address or /64 prefix>`. */
  readonly name: string;
  /** Failures allowed within the window; 0: this key is not throttled (nor counted). */
  readonly maxFailures: number;
}

export interface FailureStore {
  /** Failure instants (ms since the epoch) after `since`, oldest first, of the keys that have any. */
  recent(names: readonly string[], since: number): Promise<Map<string, number[]>>;
  /** One failure of each key at `at`. */
  record(names: readonly string[], at: number): Promise<void>;
  /** Forgets every failure of these keys. */
  clear(names: readonly string[]): Promise<void>;
  /** Forgets every failure at or before `before`, whatever its key. */
  purge(before: number): Promise<void>;
}

export interface ThrottleVerdict {
  /** Seconds until the attempt may be made; 0: it may go ahead now. */
  retryAfter: number;
  /** Names of the keys at their limit. */
  blocked: string[];
  /** Names of the keys with failures in the window: all that a success may have to clear. */
  failing: string[];
}

const FREE: ThrottleVerdict = Object.freeze({ retryAfter: 0, blocked: [], failing: [] }) as ThrottleVerdict;

/** Expired failures are purged at most this often, on the next failure. */
const PURGE_INTERVAL_MS = 60_000;

export class FailureThrottle {
  private lastPurge: number;
  private readonly turns = new KeyedQueue(() => {});

  constructor(
    private readonly store: FailureStore,
    private readonly windowSeconds: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastPurge = now();
  }

  /** Whether an attempt concerning these keys may go ahead (keys with no limit are not read). */
  async check(keys: readonly ThrottleKey[]): Promise<ThrottleVerdict> {
    const counted = keys.filter((k) => k.maxFailures > 0);
    if (!counted.length) return FREE;
    const now = this.now();
    const windowMs = this.windowSeconds() * 1000;
    const recent = await this.store.recent(counted.map((k) => k.name), now - windowMs);
    if (!recent.size) return FREE;
    const verdict: ThrottleVerdict = { retryAfter: 0, blocked: [], failing: [...recent.keys()] };
    for (const key of counted) {
      const times = recent.get(key.name);
      if (!times || times.length < key.maxFailures) continue;
      // Free again when enough of the oldest failures have left the window.
      const freeAt = times[times.length - key.maxFailures]! + windowMs;
      verdict.blocked.push(key.name);
      verdict.retryAfter = Math.max(verdict.retryAfter, Math.max(1, Math.ceil((freeAt - now) / 1000)));
    }
    return verdict;
  }

  /** Counts one failure for each key that has a limit; expired failures are purged now and then. */
  async failed(keys: readonly ThrottleKey[]): Promise<void> {
    const names = keys.filter((k) => k.maxFailures > 0).map((k) => k.name);
    if (!names.length) return;
    const now = this.now();
    await this.store.record(names, now);
    if (now - this.lastPurge >= PURGE_INTERVAL_MS) {
      this.lastPurge = now;
      // Reads ignore expired rows, so a purge that fails only leaves them for the next one.
      await this.store.purge(now - this.windowSeconds() * 1000).catch(() => {});
    }
  }

  /**
   * Waits until no other attempt holds the key on this node, and holds it until the returned
   * function is called (calling it again does nothing). An attempt held from its check until
   * its failure is counted keeps parallel guesses on one node from all passing the check
   * before the first of them is counted.
   */
  exclusive(name: string): Promise<() => void> {
    return new Promise((resolve) => {
      void this.turns.exclusive(name, () => new Promise<void>((done) => resolve(once(done))));
    });
  }

  /** A successful login clears the counts of these keys (nothing is asked of the store for none). */
  async succeeded(names: readonly string[]): Promise<void> {
    if (names.length) await this.store.clear(names);
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

/** The throttle key of an account: its prepared username (or bare JID for the admin API). */
export function accountKey(account: string): string {
  return `account:${account}`;
}

/**
 * The throttle key of a client address: an IPv4 address as it is (also when it comes mapped
 * into IPv6, `::ffff:192.0.2.1`), an IPv6 address by its /64 prefix, since one subscriber
 * usually gets a whole /64 and could otherwise try from 2^64 addresses.
 */
export function addressKey(address: string): string {
  return `address:${throttledAddress(address)}`;
}

/** The address or /64 prefix an address is counted under. */
export function throttledAddress(address: string): string {
  const plain = plainAddress(address);
  if (!net.isIPv6(plain)) return plain;
  const groups = ipv6Groups(plain);
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * An address as firewalls and fail2ban know it: IPv4 mapped into IPv6 (how a dual-stack
 * listener sees IPv4 clients) as plain IPv4, IPv6 in lower case without a zone.
 */
export function plainAddress(address: string): string {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  return mapped && net.isIPv4(mapped[1]!) ? mapped[1]! : bare;
}

/** The eight 16-bit groups of a valid IPv6 address (with or without "::" or a dotted tail). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const field of part.split(':')) {
      if (field.includes('.')) {
        const [a, b, c, d] = field.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(field, 16));
      }
    }
    return out;
  };
  const gap = address.indexOf('::');
  if (gap === -1) return parse(address);
  const head = parse(address.slice(0, gap));
  const tail = parse(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Keys beyond this are forgotten least recently failed first, so a spray of addresses cannot grow memory. */
const MAX_MEMORY_KEYS = 10_000;

/** Failures kept in this process only (one node's admin listener). */
export class MemoryFailureStore implements FailureStore {
  /** Failure times per key, oldest first; Map order is least recently failed first. */
  private readonly failures = new Map<string, number[]>();

  async recent(names: readonly string[], since: number): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const name of names) {
      const times = this.failures.get(name);
      if (!times) continue;
      while (times.length && times[0]! <= since) times.shift();
      if (times.length) out.set(name, [...times]);
      else this.failures.delete(name);
    }
    return out;
  }

  async record(names: readonly string[], at: number): Promise<void> {
    for (const name of names) {
      const times = this.failures.get(name) ?? [];
      times.push(at);
      this.failures.delete(name);
      this.failures.set(name, times);
    }
    while (this.failures.size > MAX_MEMORY_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  async clear(names: readonly string[]): Promise<void> {
    for (const name of names) this.failures.delete(name);
  }

  async purge(before: number): Promise<void> {
    for (const [name, times] of this.failures) {
      while (times.length && times[0]! <= before) times.shift();
      if (!times.length) this.failures.delete(name);
    }
  }
}
