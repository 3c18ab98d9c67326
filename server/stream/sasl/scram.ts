// SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding:
// no -PLUS variant is offered, so a client asking for binding ("p=") is refused.
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_SCRAM_ITERATIONS, constantTimeEqual, digest, hashLength, hmac, type ScramHash,
} from '../../auth/scram-keys.ts';
import { prepareLocal } from '../../jid/prep.ts';
import type { ScramKeys } from '../../storage/types.ts';
import {
  EMPTY_CHALLENGE, authzidMatches, decodeBase64Strict, decodeUtf8, failure, lookupUser,
  type MechanismOptions, type SaslContext, type SaslServerMechanism, type SaslStep,
} from './mechanism.ts';

const SERVER_NONCE_BYTES = 24;

/** What the first round fixed and the final message is checked against. */
interface Exchange {
  username: string;
  known: boolean;
  authzid: string;
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  storedKey: Buffer;
  serverKey: Buffer;
}

type Parsed<T> = T | SaslStep;

function isStep<T extends object>(v: Parsed<T>): v is SaslStep {
  return 'kind' in v;
}

// RFC 5802 saslname: ',' and '=' travel as "=2C" and "=3D"; any other '=' is an error.
function decodeSaslname(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

// printable = %x21-2B / %x2D-7E (anything visible but the comma)
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const EXTENSION = /^[A-Za-z]=/;

export class ScramMechanism implements SaslServerMechanism {
  readonly name: string;
  private state: 'start' | 'first-sent' | 'done' = 'start';
  private exchange: Exchange | null = null;

  constructor(
    private readonly hash: ScramHash,
    private readonly ctx: SaslContext,
    private readonly options: MechanismOptions = {},
  ) {
    this.name = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
  }

  async step(message: Buffer | null): Promise<SaslStep> {
    try {
      switch (this.state) {
        case 'start':
          // Without an initial response the client-first message comes as the first <response/>.
          if (message === null) return EMPTY_CHALLENGE;
          this.state = 'first-sent';
          return await this.first(message);
        case 'first-sent':
          this.state = 'done';
          return await this.final(message ?? Buffer.alloc(0));
        case 'done':
          return failure('malformed-request', 'the SCRAM exchange is already over');
      }
    } catch (err) {
      this.state = 'done';
      this.ctx.log?.warn(`${this.name} step failed`, { err });
      return failure('temporary-auth-failure');
    }
  }

  private async first(message: Buffer): Promise<SaslStep> {
    const parsed = this.parseClientFirst(message);
    if (isStep(parsed)) return this.finish(parsed);
    const username = prepareLocal(parsed.username);
    if (username === null) return this.finish(failure('not-authorized'));

    const found = await lookupUser(this.ctx, username);
    if (found === null) return this.finish(failure('temporary-auth-failure'));
    const stored = found.user ? (this.hash === 'sha1' ? found.user.scramSha1 : found.user.scramSha256) : null;
    const known = stored != null && stored.storedKey !== '';
    const keys = known ? stored : this.fakeKeys(username);

    const nonce = parsed.clientNonce + (this.options.serverNonce?.() ?? randomBytes(SERVER_NONCE_BYTES).toString('base64'));
    const serverFirst = `r=${nonce},s=${keys.salt},i=${keys.iterations}`;
    this.exchange = {
      username,
      known,
      authzid: parsed.authzid,
      gs2Header: parsed.gs2Header,
      clientFirstBare: parsed.clientFirstBare,
      serverFirst,
      nonce,
      storedKey: Buffer.from(keys.storedKey, 'base64'),
      serverKey: Buffer.from(keys.serverKey, 'base64'),
    };
    return { kind: 'challenge', data: Buffer.from(serverFirst) };
  }

  private async final(message: Buffer): Promise<SaslStep> {
    const ex = this.exchange!;
    const text = decodeUtf8(message);
    if (text === null) return failure('malformed-request', 'client-final-message is not UTF-8');
    // The proof is the last attribute; everything before it is signed.
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt === -1) return failure('malformed-request', 'client-final-message has no proof (p=)');
    const withoutProof = text.slice(0, proofAt);
    const attrs = withoutProof.split(',');
    if (!attrs[0]!.startsWith('c=') || attrs[1]?.startsWith('r=') !== true || !attrs.slice(2).every((a) => EXTENSION.test(a))) {
      return failure('malformed-request', 'client-final-message must be c=...,r=...,p=...');
    }
    const binding = decodeBase64Strict(attrs[0]!.slice(2));
    if (binding === null) return failure('malformed-request', 'channel binding (c=) is not valid base64');
    // Without channel binding, c= carries the GS2 header back, which detects a tampered header.
    if (!binding.equals(Buffer.from(ex.gs2Header))) return failure('malformed-request', 'channel binding (c=) does not match the GS2 header');
    if (attrs[1]!.slice(2) !== ex.nonce) return failure('malformed-request', 'nonce (r=) does not match');
    const proof = decodeBase64Strict(text.slice(proofAt + 3));
    if (proof === null || proof.length !== hashLength(this.hash)) return failure('malformed-request', 'proof (p=) is not a valid base64 digest');
    // The throttle decides here, where a guess would be checked: a refused client learns
    // nothing it did not know from the first round (which is the same for unknown users).
    const refused = await this.ctx.admit?.(ex.username);
    if (refused) return refused;

    const authMessage = `${ex.clientFirstBare},${ex.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.hash, ex.storedKey, authMessage);
    for (let i = 0; i < proof.length; i++) proof[i]! ^= clientSignature[i]!; // proof becomes ClientKey
    const ok = constantTimeEqual(digest(this.hash, proof), ex.storedKey);
    if (!ok || !ex.known) return failure('not-authorized');
    if (ex.authzid !== '' && !authzidMatches(ex.authzid, ex.username, this.ctx.domain)) return failure('invalid-authzid');
    const serverSignature = hmac(this.hash, ex.serverKey, authMessage);
    return { kind: 'success', username: ex.username, additionalData: Buffer.from('v=' + serverSignature.toString('base64')) };
  }

  /** gs2-header client-first-message-bare, RFC 5802 section 7. */
  private parseClientFirst(message: Buffer): Parsed<{ gs2Header: string; authzid: string; clientFirstBare: string; username: string; clientNonce: string }> {
    const text = decodeUtf8(message);
    if (text === null) return failure('malformed-request', 'client-first-message is not UTF-8');
    const c1 = text.indexOf(',');
    const c2 = c1 === -1 ? -1 : text.indexOf(',', c1 + 1);
    if (c2 === -1) return failure('malformed-request', 'client-first-message has no GS2 header');
    const flag = text.slice(0, c1);
    if (flag.startsWith('p=')) return failure('not-authorized', 'channel binding is not supported; use a mechanism without -PLUS');
    // 'y': the client could bind but thinks we cannot; true, since no -PLUS is offered.
    if (flag !== 'n' && flag !== 'y') return failure('malformed-request', 'GS2 channel-binding flag must be n, y or p=');
    const authzField = text.slice(c1 + 1, c2);
    let authzid = '';
    if (authzField !== '') {
      const decoded = authzField.startsWith('a=') ? decodeSaslname(authzField.slice(2)) : null;
      if (!decoded) return failure('malformed-request', 'GS2 authzid must be a=<saslname>');
      authzid = decoded;
    }

    const clientFirstBare = text.slice(c2 + 1);
    const attrs = clientFirstBare.split(',');
    if (attrs[0]!.startsWith('m=')) return failure('malformed-request', 'mandatory SCRAM extensions are not supported');
    if (!attrs[0]!.startsWith('n=') || attrs[1]?.startsWith('r=') !== true || !attrs.slice(2).every((a) => EXTENSION.test(a))) {
      return failure('malformed-request', 'client-first-message must be n=...,r=...');
    }
    const username = decodeSaslname(attrs[0]!.slice(2));
    if (!username) return failure('malformed-request', 'username (n=) is empty or badly escaped');
    const clientNonce = attrs[1]!.slice(2);
    if (!NONCE.test(clientNonce)) return failure('malformed-request', 'nonce (r=) must be printable ASCII without commas');
    return { gs2Header: text.slice(0, c2 + 1), authzid, clientFirstBare, username, clientNonce };
  }

  private finish(step: SaslStep): SaslStep {
    this.state = 'done';
    return step;
  }

  /** A stable, plausible salt for a user who does not exist; the keys match no password. */
  private fakeKeys(username: string): ScramKeys {
    const salt = hmac('sha256', this.ctx.fakeSaltSecret, `${this.hash}\0${username}`).subarray(0, 16);
    const key = randomBytes(hashLength(this.hash)).toString('base64');
    return { salt: salt.toString('base64'), iterations: this.ctx.iterations ?? DEFAULT_SCRAM_ITERATIONS, storedKey: key, serverKey: key };
  }
}
