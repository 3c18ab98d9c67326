// SCRAM credentials (RFC 5802 section 3): what the server stores instead of a password, and
// the primitives both SCRAM and PLAIN verification are built from.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramKeys } from '../storage/types.ts';

export type ScramHash = 'sha1' | 'sha256';

/** Iteration count for new keys when nothing else is configured (RFC 7677 asks for at least 4096). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;

export class SaslPrepError extends Error {
  constructor(reason: string) {
    super(`string refused by SASLprep: ${reason}`);
    this.name = 'SaslPrepError';
  }
}

/** Output length of the hash in bytes. */
export function hashLength(hash: ScramHash): number {
  return hash === 'sha1' ? 20 : 32;
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

// RFC 4013 mapping: non-ASCII spaces become U+0020, "commonly mapped to nothing" (RFC 3454
// B.1: soft hyphen, zero-width joiners, variation selectors, ...) disappear.
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/gu;
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/gu;
// RFC 4013 prohibited output (RFC 3454 C.1.2-C.9) and unassigned code points, approximated by
// Unicode categories (control, private use, surrogate, unassigned, which takes in the
// non-characters) plus the invisible or display-changing code points of C.6, C.8 and C.9.
const PROHIBITED = /[\p{Cc}\p{Co}\p{Cs}\p{Cn}\ufff9-\ufffd\u0340\u0341\u200e\u200f\u202a-\u202e\u206a-\u206f\u2ff0-\u2ffb\u{e0001}\u{e0020}-\u{e007f}]/u;

/** RFC 4013 SASLprep, approximated: map, NFKC, then refuse prohibited characters (throws SaslPrepError). */
export function saslPrep(s: string): string {
  // Printable ASCII is already in its prepared form, and it is nearly every password.
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const prepared = s.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  const bad = PROHIBITED.exec(prepared);
  if (bad) {
    throw new SaslPrepError(`prohibited character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  return prepared;
}

function saltedPassword(password: string, salt: Buffer, iterations: number, hash: ScramHash): Promise<Buffer> {
  const prepared = saslPrep(password);
  return new Promise((resolve, reject) => {
    // The async form runs in libuv's thread pool, so logins do not stall the event loop.
    pbkdf2(prepared, salt, iterations, hashLength(hash), hash, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** StoredKey from SaltedPassword: H(HMAC(SaltedPassword, "Client Key")). */
function storedKeyOf(salted: Buffer, hash: ScramHash): Buffer {
  return digest(hash, hmac(hash, salted, 'Client Key'));
}

/** SaltedPassword = PBKDF2(SASLprep(password), salt, i); keys as RFC 5802 section 3 defines them. */
export async function deriveScramKeys(password: string, hash: ScramHash, iterations: number, salt?: Buffer): Promise<ScramKeys> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`invalid SCRAM iteration count ${iterations}`);
  const s = salt ?? randomBytes(SALT_BYTES);
  const salted = await saltedPassword(password, s, iterations, hash);
  return {
    salt: s.toString('base64'),
    iterations,
    storedKey: storedKeyOf(salted, hash).toString('base64'),
    serverKey: hmac(hash, salted, 'Server Key').toString('base64'),
  };
}

/** Keys for both hashes, each with its own fresh salt. */
export async function deriveUserKeys(password: string, iterations: number): Promise<{ scramSha1: ScramKeys; scramSha256: ScramKeys }> {
  const [scramSha1, scramSha256] = await Promise.all([
    deriveScramKeys(password, 'sha1', iterations),
    deriveScramKeys(password, 'sha256', iterations),
  ]);
  return { scramSha1, scramSha256 };
}

/** Equality in time that depends only on the length, which is public (the hash size). */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * For SASL PLAIN: recomputes StoredKey from the stored salt and iteration count and compares.
 * A password SASLprep refuses cannot have been stored, so it simply does not match.
 */
export async function verifyPassword(password: string, keys: ScramKeys, hash: ScramHash): Promise<boolean> {
  let salted: Buffer;
  try {
    salted = await saltedPassword(password, Buffer.from(keys.salt, 'base64'), keys.iterations, hash);
  } catch (err) {
    if (err instanceof SaslPrepError) return false;
    throw err;
  }
  return constantTimeEqual(storedKeyOf(salted, hash), Buffer.from(keys.storedKey, 'base64'));
}
