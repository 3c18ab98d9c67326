// The SASL part of a client stream (RFC 6120 section 6): <auth/>, <response/>, <abort/>,
// answered with <challenge/>, <success/> or <failure/>. Failed attempts are answered more
// slowly each time (xmpp.auth.failure-delay), and the stream is ended after a few
// (xmpp.auth.max-failures).
//
// Across streams and nodes, wrong credentials are counted per account and per client address
// (server.authThrottle, in the database). Right before a password or proof would be checked,
// an account or address over its limit is answered <temporary-auth-failure/> (RFC 6120
// 6.5.11) instead, so a throttled guess costs no key derivation and tells nothing, not even
// whether the account exists. On one node, attempts at one account take turns from that check
// until their failure is counted, so parallel streams cannot all pass the check at once. Each
// failure and each throttled attempt is logged in a fixed format for intrusion tools
// (docs/security.md).
import { accountKey, addressKey, plainAddress, type ThrottleKey, type ThrottleVerdict } from '../auth/failure-throttle.ts';
import type { Logger } from '../log.ts';
import type { SaslDeps } from './stream-deps.ts';
import type { Transport } from '../transport/transport.ts';
import { xml, type Element } from '../xml/element.ts';
import { decodeBase64Strict, failure, type SaslCondition, type SaslServerMechanism, type SaslStep } from './sasl/mechanism.ts';
import { MECHANISMS, createMechanism } from './sasl/registry.ts';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

export type SaslOutcome =
  | { kind: 'continue' }
  | { kind: 'success'; username: string }
  | { kind: 'too-many-failures' };

/** One exchange, as far as the throttle and the log are concerned. */
interface Attempt {
  mechanism: string;
  /** The prepared username, once the client has named one that can be prepared. */
  username: string | null;
  /** What a failure counts for: the address, and the account once named. */
  keys: ThrottleKey[];
  /** Keys that had failures when the attempt was admitted: what a success clears. */
  failing: string[];
  /** Set when the attempt was refused by the throttle. */
  throttled: ThrottleVerdict | null;
  /** Ends the attempt's turn at its account on this node (see FailureThrottle.exclusive). */
  release: () => void;
}

const NO_TURN = (): void => {};

export class SaslNegotiation {
  private mechanism: SaslServerMechanism | null = null;
  private attempt: Attempt | null = null;
  private failures = 0;

  constructor(
    private readonly server: SaslDeps,
    private readonly transport: Transport,
    private readonly log: Logger,
  ) {}

  /** Mechanisms to offer; PLAIN only where the password cannot be sniffed (or config allows it). */
  static offered(plainAllowed: boolean): string[] {
    return MECHANISMS.filter((m) => m !== 'PLAIN' || plainAllowed);
  }

  async handle(el: Element): Promise<SaslOutcome> {
    switch (el.name) {
      case 'auth': return this.auth(el);
      case 'response': return this.response(el);
      case 'abort':
        this.mechanism = null;
        return this.failure('aborted');
      default:
        return this.failure('malformed-request', `unexpected <${el.name}/>`);
    }
  }

  private async auth(el: Element): Promise<SaslOutcome> {
    if (this.mechanism) return this.failure('malformed-request', 'an exchange is already in progress');
    const name = el.attrs.mechanism ?? '';
    const secure = this.transport.secure;
    if (!MECHANISMS.includes(name)) return this.failure('invalid-mechanism');
    if (!SaslNegotiation.offered(secure || this.server.config.allowPlaintextAuth).includes(name)) {
      return this.failure('encryption-required', `${name} needs an encrypted stream`);
    }
    const storage = this.server.storage;
    const attempt: Attempt = { mechanism: name, username: null, keys: this.throttleKeys(null), failing: [], throttled: null, release: NO_TURN };
    this.attempt = attempt;
    this.mechanism = createMechanism(name, {
      domain: this.server.domain,
      secure,
      lookup: (username) => storage.users.get(username),
      iterations: this.server.core.scramIterations.value,
      fakeSaltSecret: this.server.secrets.scramFakeSalt,
      passwordCache: this.server.passwordCache,
      log: this.log,
      admit: (username) => this.admit(attempt, username),
    });
    // No initial response: no text at all. "=" is an empty initial response (RFC 6120 6.4.2).
    const text = el.getText().trim();
    if (text === '') return this.step(null);
    return this.step(text === '=' ? '' : text);
  }

  private async response(el: Element): Promise<SaslOutcome> {
    if (!this.mechanism) return this.failure('malformed-request', 'no exchange in progress');
    const text = el.getText().trim();
    return this.step(text === '=' ? '' : text);
  }

  private async step(base64: string | null): Promise<SaslOutcome> {
    let data: Buffer | null = null;
    if (base64 !== null) {
      data = base64 === '' ? Buffer.alloc(0) : decodeBase64Strict(base64);
      if (data === null) {
        this.mechanism = null;
        return this.failure('incorrect-encoding');
      }
    }
    const attempt = this.attempt;
    let result: SaslStep;
    try {
      result = await this.mechanism!.step(data);
      // Counted or cleared while the attempt still holds its account's turn.
      if (result.kind === 'failure') await this.report(result.condition, attempt);
      if (result.kind === 'success') await this.succeeded(attempt, result.username);
    } finally {
      attempt?.release();
    }
    if (result.kind === 'challenge') {
      this.transport.send(xml('challenge', { xmlns: NS_SASL }, encode(result.data)));
      return { kind: 'continue' };
    }
    this.mechanism = null;
    this.attempt = null;
    if (result.kind === 'failure') return this.failure(result.condition, result.text, true);
    this.transport.send(xml('success', { xmlns: NS_SASL }, result.additionalData ? encode(result.additionalData) : undefined));
    return { kind: 'success', username: result.username };
  }

  /** The address, then the account once named, each with its limit as the properties say now. */
  private throttleKeys(username: string | null): ThrottleKey[] {
    const core = this.server.core;
    const keys: ThrottleKey[] = [{ name: addressKey(this.transport.remoteAddress), maxFailures: core.authThrottleAddressMaxFailures.value }];
    if (username !== null) keys.push({ name: accountKey(username), maxFailures: core.authThrottleAccountMaxFailures.value });
    return keys;
  }

  /** Asked by the mechanism right before it would verify the credentials. */
  private async admit(attempt: Attempt, username: string): Promise<SaslStep | null> {
    attempt.username = username;
    attempt.keys = this.throttleKeys(username);
    const throttle = this.server.authThrottle;
    if (this.server.core.authThrottleAccountMaxFailures.value > 0) attempt.release = await throttle.exclusive(accountKey(username));
    const verdict = await throttle.check(attempt.keys);
    attempt.failing = verdict.failing;
    if (verdict.retryAfter === 0) return null;
    attempt.throttled = verdict;
    return failure('temporary-auth-failure', `Too many failed authentication attempts; try again in ${verdict.retryAfter} seconds`);
  }

  /** Success clears the account's count, and costs a query only if the account had failures. */
  private async succeeded(attempt: Attempt | null, username: string): Promise<void> {
    const account = accountKey(username);
    if (!attempt?.failing.includes(account)) return;
    await this.server.authThrottle.succeeded([account]).catch((err: unknown) => {
      this.log.warn('could not clear the failed logins of an account', { user: username, err });
    });
  }

  /** Answers a failure; `reported`: already counted and logged (see step). */
  private async failure(condition: SaslCondition, text?: string, reported = false): Promise<SaslOutcome> {
    const attempt = this.attempt;
    this.mechanism = null;
    this.attempt = null;
    if (condition !== 'aborted') {
      this.failures++;
      this.server.stats.loginFailures++;
      // Synchronous unless a failure is counted in the database: the answer to a malformed
      // request leaves in the same turn, as it did before the throttle (BOSH puts it in the
      // response to the request that carried it).
      if (!reported) {
        const counting = this.report(condition, attempt);
        if (counting) await counting;
      }
      // Each failure is answered later than the one before, to slow down password guessing.
      const delay = this.server.core.authFailureDelay.value * 1000 * (this.failures - 1);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    this.transport.send(xml('failure', { xmlns: NS_SASL }, xml(condition), text ? xml('text', { 'xml:lang': 'en' }, text) : undefined));
    // Read now, not when the stream opened: a lowered limit also reaches streams already open.
    return this.failures >= this.server.core.authMaxFailures.value ? { kind: 'too-many-failures' } : { kind: 'continue' };
  }

  /**
   * Counts wrong credentials (not-authorized: a wrong password, an unknown or invalid account)
   * for the throttle, and logs every failure in the format docs/security.md documents for
   * fail2ban: the address first, taken from the connection (IPv4 as IPv4 also on a dual-stack
   * listener, so that a ban applies to it), then the prepared username (no spaces or quotes,
   * RFC 7622), then the mechanism, so nothing a client sends can move or fake the address a
   * filter reads.
   */
  private report(condition: SaslCondition, attempt: Attempt | null): Promise<void> | undefined {
    if (condition === 'aborted') return undefined;
    const fields = {
      address: plainAddress(this.transport.remoteAddress),
      user: attempt?.username ?? undefined,
      mechanism: attempt?.mechanism,
    };
    if (attempt?.throttled) {
      const by = attempt.throttled.blocked.map((name) => name.slice(0, name.indexOf(':'))).join(',');
      this.log.warn('authentication throttled', { ...fields, by, 'retry-after': attempt.throttled.retryAfter });
      return undefined;
    }
    if (condition !== 'not-authorized') {
      this.log.warn('authentication failed', { ...fields, condition });
      return undefined;
    }
    return this.server.authThrottle.failed(attempt?.keys ?? this.throttleKeys(null)).catch((err: unknown) => {
      this.log.warn('could not count a failed login', { err });
    }).then(() => this.log.warn('authentication failed', { ...fields, condition }));
  }
}

/** Empty data is sent as "=" (RFC 6120 6.4.2). */
function encode(data: Buffer): string {
  return data.length ? data.toString('base64') : '=';
}
