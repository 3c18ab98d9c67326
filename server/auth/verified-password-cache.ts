// Remembers recently verified PLAIN passwords so a returning client does not cost a PBKDF2
// (4096 iterations is ~5 ms of CPU: without this, PLAIN logins top out near 200/s per core).
// An entry is a keyed hash of the stored key and the password; a password change replaces the
// stored key, so old entries stop matching by themselves. Trade-off: whoever can read this
// process's memory could test guesses at HMAC speed, but could read PLAIN passwords anyway.
import { createHmac, randomBytes } from 'node:crypto';
import type { ScramKeys } from '../storage/types.ts';
import { constantTimeEqual } from './scram-keys.ts';

export class VerifiedPasswordCache {
  private readonly secret = randomBytes(32);
  /** username -> tag; Map order is least recently used first. */
  private readonly entries = new Map<string, Buffer>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** True if this password was verified against these very keys before. */
  has(username: string, password: string, keys: ScramKeys): boolean {
    const tag = this.entries.get(username);
    if (tag === undefined || !constantTimeEqual(tag, this.tag(password, keys))) return false;
    this.entries.delete(username);
    this.entries.set(username, tag);
    return true;
  }

  add(username: string, password: string, keys: ScramKeys): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(username);
    this.entries.set(username, this.tag(password, keys));
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(username: string): void {
    this.entries.delete(username);
  }

  private tag(password: string, keys: ScramKeys): Buffer {
    return createHmac('sha256', this.secret).update(`${keys.storedKey}\0${keys.salt}\0${keys.iterations}\0`).update(password).digest();
  }
}
