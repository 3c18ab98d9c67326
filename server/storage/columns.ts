// How values are written to and read from columns so that SQLite and MySQL/MariaDB behave
// the same.
import { createHash } from 'node:crypto';

/**
 * The indexed key of a username, JID or other user-supplied string: its SHA-256 in hex.
 * A JID may be 3071 bytes and a localpart 1023 (RFC 7622), more than MySQL can index in
 * utf8mb4 (3072 bytes per index, 4 per character), so tables index this fixed-size key and
 * keep the full value in an unindexed column beside it. Comparison is exact, as it must be
 * for prepared JIDs, whatever the collation.
 */
export function keyOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * A stored instant as a Date. SQLite holds what knex wrote for a Date (milliseconds since
 * the epoch); mysql2 parses DATETIME itself (as UTC, see database.ts).
 */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  throw new TypeError(`not a stored date: ${String(value)}`);
}

/** Aggregates come back as number, bigint or (MySQL DECIMAL) string depending on the driver. */
export function toCount(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}
