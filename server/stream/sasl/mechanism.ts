// The server side of one SASL exchange (RFC 4422, RFC 6120 section 6). A mechanism turns each
// client message into a challenge, a success or a failure carrying an RFC 6120 condition; the
// stream does the XML, the base64 and the <abort/> handling.
import type { VerifiedPasswordCache } from '../../auth/verified-password-cache.ts';
import { prepareDomain, prepareLocal } from '../../jid/prep.ts';
import type { Logger } from '../../log.ts';
import type { UserRecord } from '../../storage/types.ts';

export type SaslCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; username: string; additionalData?: Buffer }
  | { kind: 'failure'; condition: SaslCondition; text?: string };

export interface SaslContext {
  /** The served domain; an authzid, if present, must be username@domain. */
  domain: string;
  /** The stream is TLS-protected. */
  secure: boolean;
  /** Loads the user's stored keys; null if no such user. May throw (database down). */
  lookup(username: string): Promise<UserRecord | null>;
  /**
   * Keys the salts shown to unknown users. They must be stable for a name, on every node and
   * across restarts (or asking twice would tell an unknown user apart), and not computable by
   * a client: the server secret `scram.fake-salt` from the database.
   */
  fakeSaltSecret: Buffer;
  /** Iteration count shown to unknown users, so their challenge looks like a real one (default 4096). */
  iterations?: number;
  /** Skips the PBKDF2 of PLAIN for a password verified before against the same keys. */
  passwordCache?: VerifiedPasswordCache;
  /** Where storage errors are reported; the client only learns temporary-auth-failure. */
  log?: Logger;
  /**
   * Called with the prepared username right before the credentials are verified: by PLAIN
   * before the account is looked up, by SCRAM before the client's proof is checked. A failure
   * returned is the answer to the exchange (the throttle's temporary-auth-failure); null lets
   * the verification go on.
   */
  admit?(username: string): Promise<SaslStep | null>;
}

export interface SaslServerMechanism {
  readonly name: string;
  /** First call gets the initial response (null if none sent, empty for "="), later calls each <response/>. */
  step(message: Buffer | null): Promise<SaslStep>;
}

/** Test hooks; production code passes none. */
export interface MechanismOptions {
  /** Server part of the SCRAM nonce (default: 24 random bytes, base64). */
  serverNonce?: () => string;
}

export function failure(condition: SaslCondition, text?: string): SaslStep {
  return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
}

export const EMPTY_CHALLENGE: SaslStep = { kind: 'challenge', data: Buffer.alloc(0) };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding; null for invalid byte sequences. */
export function decodeUtf8(data: Buffer): string | null {
  try {
    return utf8.decode(data);
  } catch {
    return null;
  }
}

/** Base64 as RFC 4648 writes it (padding included, no stray characters); null otherwise. */
export function decodeBase64Strict(s: string): Buffer | null {
  const data = Buffer.from(s, 'base64');
  // Node's decoder skips what it does not understand; only a canonical encoding round-trips.
  return data.toString('base64') === s ? data : null;
}

/** An authzid is accepted only when it names the authenticated user itself (no proxy authorization). */
export function authzidMatches(authzid: string, username: string, domain: string): boolean {
  const at = authzid.indexOf('@');
  if (at === -1 || authzid.includes('/')) return false;
  return prepareLocal(authzid.slice(0, at)) === username && prepareDomain(authzid.slice(at + 1)) === prepareDomain(domain);
}

/** Runs a storage call; null result means "failed", already reported. */
export async function lookupUser(ctx: SaslContext, username: string): Promise<{ user: UserRecord | null } | null> {
  try {
    return { user: await ctx.lookup(username) };
  } catch (err) {
    ctx.log?.warn('user lookup failed during SASL', { username, err });
    return null;
  }
}
