// The list types of system properties: accounts (jid-list), IP ranges (cidr-list), web
// origins (origin-list) and absolute URIs (uri-list), written as entries separated by
// commas or spaces. Each entry is
// checked, so that a typo is refused when it is set, naming the entry, instead of being
// skipped with a warning by the code that reads the list. Stored in canonical form: the
// entries as prepared, joined by ", ".
import { JID } from '../jid/jid.ts';
import { prepareLocal } from '../jid/prep.ts';
import { parseIpRange } from '../util/ip-range.ts';

export type ListType = 'jid-list' | 'cidr-list' | 'origin-list' | 'uri-list';

/** An entry's canonical form, or throws a reason naming the entry. */
type EntryCheck = (entry: string) => string;

const reason = (entry: string, why: string): never => {
  throw new ListEntryError(`${JSON.stringify(entry)} ${why}`);
};

export class ListEntryError extends Error {}

/** A bare JID of an account, or a user name (of this domain, which the reader adds). */
const account: EntryCheck = (entry) => {
  if (!entry.includes('@')) {
    const local = entry.includes('/') ? null : prepareLocal(entry);
    return local ?? reason(entry, 'is not a bare JID (user@domain) or a user name');
  }
  const jid = JID.tryParse(entry);
  if (!jid || !jid.local) return reason(entry, 'is not a bare JID (user@domain) or a user name');
  if (jid.resource) return reason(entry, `is a full JID; give the bare JID ${jid.bareString()}`);
  return jid.bareString();
};

const ipRange: EntryCheck = (entry) => {
  const range = parseIpRange(entry);
  if (!range) return reason(entry, 'is not an IP address or a CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)');
  return entry.toLowerCase();
};

/** An origin as browsers send it: scheme, host and optional port, nothing more. */
const origin: EntryCheck = (entry) => {
  const bad = (): never => reason(entry, 'is not a web origin (scheme://host[:port], such as https://chat.example.com) or *');
  if (entry === '*') return entry;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@\s]+?)\/?$/i.exec(entry);
  if (!m) return bad();
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return bad();
  }
  if (!url.host || url.pathname.replace(/^\/$/, '') !== '' || url.search || url.hash || url.username) return bad();
  return `${url.protocol}//${url.host}`.toLowerCase();
};

/**
 * An absolute URI (RFC 3986: a scheme, a colon, something after it), such as the contact
 * addresses of XEP-0157: mailto:abuse@example.com, xmpp:admin@example.com, https://example.com/.
 * The scheme is lower-cased; the rest is kept as written.
 */
const uri: EntryCheck = (entry) => {
  const m = /^([a-z][a-z0-9+.-]*):(.+)$/i.exec(entry);
  const bad = (): never => reason(entry, 'is not an absolute URI (such as mailto:abuse@example.com, xmpp:admin@example.com or https://example.com/contact)');
  if (!m || /[\u0000-\u0020<>"{}|\\^`]/.test(entry)) return bad();
  try {
    new URL(entry);
  } catch {
    return bad();
  }
  return `${m[1]!.toLowerCase()}:${m[2]}`;
};

const CHECKS: Record<ListType, EntryCheck> = { 'jid-list': account, 'cidr-list': ipRange, 'origin-list': origin, 'uri-list': uri };

export function isListType(type: string): type is ListType {
  return type in CHECKS;
}

/** The canonical text of a list, or throws ListEntryError naming the first bad entry. */
export function parseList(type: ListType, raw: string): string {
  const check = CHECKS[type];
  const entries = [...new Set(raw.split(/[\s,]+/).filter((e) => e !== '').map(check))];
  if (type === 'origin-list' && entries.includes('*') && entries.length > 1) {
    throw new ListEntryError('"*" allows every origin: give it alone, or list the origins without it');
  }
  return entries.join(', ');
}
