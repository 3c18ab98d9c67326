// SASL PLAIN (RFC 4616): authzid NUL authcid NUL password, checked against the stored
// SCRAM-SHA-256 keys. Whether it may be offered without TLS is the stream's decision.
import { randomBytes } from 'node:crypto';
import { DEFAULT_SCRAM_ITERATIONS, verifyPassword } from '../../auth/scram-keys.ts';
import { prepareLocal } from '../../jid/prep.ts';
import type { ScramKeys } from '../../storage/types.ts';
import {
  EMPTY_CHALLENGE, authzidMatches, decodeUtf8, failure, lookupUser,
  type SaslContext, type SaslServerMechanism, type SaslStep,
} from './mechanism.ts';

export class PlainMechanism implements SaslServerMechanism {
  readonly name = 'PLAIN';
  private done = false;

  constructor(private readonly ctx: SaslContext) {}

  async step(message: Buffer | null): Promise<SaslStep> {
    if (this.done) return failure('malformed-request', 'PLAIN takes a single message');
    // No initial response: RFC 6120 6.4.2 has the server send an empty challenge for it.
    if (message === null) return EMPTY_CHALLENGE;
    this.done = true;
    try {
      return await this.verify(message);
    } catch (err) {
      this.ctx.log?.warn('PLAIN verification failed', { err });
      return failure('temporary-auth-failure');
    }
  }

  private async verify(message: Buffer): Promise<SaslStep> {
    const fields = decodeUtf8(message)?.split('\0');
    if (!fields || fields.length !== 3) return failure('malformed-request', 'expected authzid NUL authcid NUL password');
    const [authzid, authcid, password] = fields as [string, string, string];
    if (authcid === '' || password === '') return failure('malformed-request', 'empty username or password');

    const username = prepareLocal(authcid);
    if (username === null) return failure('not-authorized');
    const refused = await this.ctx.admit?.(username);
    if (refused) return refused;
    const found = await lookupUser(this.ctx, username);
    if (found === null) return failure('temporary-auth-failure');
    const user = found.user;
    if (user === null) {
      // The same PBKDF2 as for a wrong password, so timing does not tell an unknown user apart.
      await verifyPassword(password, unknownUserKeys(this.ctx.iterations ?? DEFAULT_SCRAM_ITERATIONS), 'sha256');
      return failure('not-authorized');
    }
    const cache = this.ctx.passwordCache;
    if (!cache?.has(username, password, user.scramSha256)) {
      if (!(await verifyPassword(password, user.scramSha256, 'sha256'))) return failure('not-authorized');
      cache?.add(username, password, user.scramSha256);
    }
    if (authzid !== '' && !authzidMatches(authzid, username, this.ctx.domain)) return failure('invalid-authzid');
    return { kind: 'success', username };
  }
}

/** Keys no password matches (the stored key is not the hash of anything derived). */
function unknownUserKeys(iterations: number): ScramKeys {
  return { salt: randomBytes(16).toString('base64'), iterations, storedKey: '', serverKey: '' };
}
