// Unique and stable stanza ids (XEP-0359). The archive id of a received message is put in
// the message itself, as <stanza-id by='owner's bare JID'/>, before it is delivered, so the
// recipient sees the same id live, in carbons, from offline storage and in the archive.
import { randomBytes } from 'node:crypto';
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';

export const NS_SID = 'urn:xmpp:sid:0';

const ID_BYTES = 12;
/** Random bytes for ids, drawn in blocks: one randomBytes() call per id cost a tenth of a message's CPU time. */
const POOL_BYTES = ID_BYTES * 512;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;

/** A new archive id: 96 random bits, URL-safe, 16 characters. */
export function newArchiveId(): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

/**
 * Removes stanza-ids that claim to be ours (their `by` is this domain or one of its JIDs):
 * only the server may say what its archive calls a message (XEP-0359 4), so a sender must
 * not plant one. Those of other entities (a group chat elsewhere) are kept.
 */
export function stripOwnStanzaIds(message: Element, domain: string): void {
  const ours = (by: string | undefined): boolean => JID.tryParse(by)?.domain === domain;
  let found = false;
  for (const child of message.children) {
    if (typeof child !== 'string' && child.localName === 'stanza-id' && child.attrs.xmlns === NS_SID && ours(child.attrs.by)) found = true;
  }
  if (!found) return;
  message.children = message.children.filter((c) => typeof c === 'string' || !(c.localName === 'stanza-id' && c.attrs.xmlns === NS_SID && ours(c.attrs.by)));
}

export function stampStanzaId(message: Element, id: string, by: string): void {
  message.append(xml('stanza-id', { xmlns: NS_SID, id, by }));
}
