// Unique and stable stanza ids (XEP-0359). The archive id of a received message is put in
// the message itself, as <stanza-id by='owner's bare JID'/>, before it is delivered, so the
// recipient sees the same id live, in carbons, from offline storage and in the archive.
import { randomBytes } from 'node:crypto';
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';

export const NS_SID = 'urn:xmpp:sid:0';

/** Bytes of random per id, after the 6 bytes of the clock. */
const RANDOM_BYTES = 6;
/** Random bytes for ids, drawn in blocks: one randomBytes() call per id cost a tenth of a message's CPU time. */
const POOL_BYTES = RANDOM_BYTES * 1024;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;
/** URL-safe characters in ascending byte order, so ids sort as the numbers they encode. */
const DIGITS = Buffer.from('-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz', 'latin1');
const id = Buffer.alloc(12);
const text = Buffer.alloc(16);

/**
 * A new archive id, 16 characters: the milliseconds of the clock, then 48 random bits.
 * Ids of one archive are unique (two in the same millisecond differ by chance only, one in
 * 2^48) and rise with time, so each new id sorts at the end of its archive's ids: its entry
 * in the index that finds a position from an id goes where the archive's last ones are,
 * not to a random page of it, which for a random id cost a page written per row.
 */
export function newArchiveId(now = Date.now()): string {
  if (offset + RANDOM_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  id.writeUIntBE(now, 0, 6);
  pool.copy(id, 6, offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  // Four characters per three bytes, most significant first.
  for (let i = 0, j = 0; i < 12; i += 3, j += 4) {
    const n = (id[i]! << 16) | (id[i + 1]! << 8) | id[i + 2]!;
    text[j] = DIGITS[n >> 18]!;
    text[j + 1] = DIGITS[(n >> 12) & 63]!;
    text[j + 2] = DIGITS[(n >> 6) & 63]!;
    text[j + 3] = DIGITS[n & 63]!;
  }
  return text.toString('latin1');
}

/**
 * Removes stanza-ids that claim to be ours (their `by` is this domain or one of its JIDs):
 * only the server may say what its archive calls a message (XEP-0359 4), so a sender must
 * not plant one. Those of other entities (a group chat elsewhere) are kept.
 */
export function stripOwnStanzaIds(message: Element, domain: string): void {
  let found = false;
  for (const child of message.children) {
    if (typeof child !== 'string' && child.localName === 'stanza-id' && child.attrs.xmlns === NS_SID && ours(child.attrs.by, domain)) found = true;
  }
  if (!found) return;
  message.children = message.children.filter((c) => typeof c === 'string' || !(c.localName === 'stanza-id' && c.attrs.xmlns === NS_SID && ours(c.attrs.by, domain)));
}

function ours(by: string | undefined, domain: string): boolean {
  return JID.tryParse(by)?.domain === domain;
}

export function stampStanzaId(message: Element, id: string, by: string): void {
  message.append(xml('stanza-id', { xmlns: NS_SID, id, by }));
}
