// The SASL part of a client stream (RFC 6120 section 6): <auth/>, <response/>, <abort/>,
// answered with <challenge/>, <success/> or <failure/>. Failed attempts are answered more
// slowly each time (xmpp.auth.failure-delay), and the stream is ended after a few
// (xmpp.auth.max-failures).
import type { Logger } from '../log.ts';
import type { ServerContext } from '../server-context.ts';
import type { Transport } from '../transport/transport.ts';
import { xml, type Element } from '../xml/element.ts';
import { decodeBase64Strict, type SaslCondition, type SaslServerMechanism } from './sasl/mechanism.ts';
import { MECHANISMS, createMechanism } from './sasl/registry.ts';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

export type SaslOutcome =
  | { kind: 'continue' }
  | { kind: 'success'; username: string }
  | { kind: 'too-many-failures' };

export class SaslNegotiation {
  private mechanism: SaslServerMechanism | null = null;
  private failures = 0;

  constructor(
    private readonly server: ServerContext,
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
    this.mechanism = createMechanism(name, {
      domain: this.server.domain,
      secure,
      lookup: (username) => storage.users.get(username),
      iterations: this.server.core.scramIterations.value,
      fakeSaltSecret: this.server.secrets.scramFakeSalt,
      passwordCache: this.server.passwordCache,
      log: this.log,
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
    const result = await this.mechanism!.step(data);
    if (result.kind === 'challenge') {
      this.transport.send(xml('challenge', { xmlns: NS_SASL }, encode(result.data)));
      return { kind: 'continue' };
    }
    this.mechanism = null;
    if (result.kind === 'failure') return this.failure(result.condition, result.text);
    this.transport.send(xml('success', { xmlns: NS_SASL }, result.additionalData ? encode(result.additionalData) : undefined));
    return { kind: 'success', username: result.username };
  }

  private async failure(condition: SaslCondition, text?: string): Promise<SaslOutcome> {
    this.mechanism = null;
    if (condition !== 'aborted') {
      this.failures++;
      this.server.stats.loginFailures++;
      this.log.info('authentication failed', { address: this.transport.remoteAddress, condition, attempt: this.failures });
      // Each failure is answered later than the one before, to slow down password guessing.
      const delay = this.server.core.authFailureDelay.value * 1000 * (this.failures - 1);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    this.transport.send(xml('failure', { xmlns: NS_SASL }, xml(condition), text ? xml('text', { 'xml:lang': 'en' }, text) : undefined));
    // Read now, not when the stream opened: a lowered limit also reaches streams already open.
    return this.failures >= this.server.core.authMaxFailures.value ? { kind: 'too-many-failures' } : { kind: 'continue' };
  }
}

/** Empty data is sent as "=" (RFC 6120 6.4.2). */
function encode(data: Buffer): string {
  return data.length ? data.toString('base64') : '=';
}
