// The checks of RFC 6121 2.3.3 (and 2.1.2, 2.5) on a client's roster set, each failure
// with the condition the RFC names and a text saying what was wrong.
import { JID } from '../../jid/jid.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';

/**
 * The groups of an item are stored as one JSON array in a text column of 64 KiB
 * (roster-repository.ts). The default limits (15 groups of at most 255 characters) always
 * fit; raised limits might not, so the stored form is measured too.
 */
const MAX_GROUPS_BYTES = 65535;

/** The limits a roster set is checked against (system properties, read at each request). */
export interface RosterSetLimits {
  /** Longest name or group name, in characters. */
  maxTextLength: number;
  /** Most groups per item. */
  maxGroups: number;
}

export interface RosterSetRequest {
  /** Bare JID of the contact, prepared. */
  jid: string;
  remove: boolean;
  /** The handle; '' when the client gave none (see roster-item.ts isVisible). */
  name: string | null;
  groups: string[];
}

const length = (s: string): number => [...s].length;

export function parseRosterSet(query: Element, ownBareJid: string, limits: RosterSetLimits): RosterSetRequest {
  const { maxTextLength, maxGroups } = limits;
  const items = query.getChildren('item');
  if (items.length !== 1) throw new StanzaError('bad-request', 'A roster set carries exactly one <item/>');
  const item = items[0]!;
  const raw = item.attrs.jid;
  if (raw === undefined) throw new StanzaError('bad-request', 'The <item/> lacks its jid attribute');
  const jid = JID.tryParse(raw);
  if (!jid) throw new StanzaError('jid-malformed', `Not a valid JID: ${raw}`);
  if (!jid.isBare) throw new StanzaError('bad-request', 'A roster item is a bare JID, without resource');
  const bare = jid.toString();
  if (bare === ownBareJid) throw new StanzaError('not-allowed', 'An account is always subscribed to itself and cannot be its own contact');

  // 2.1.2.5: in a roster set, every subscription value but "remove" is ignored (as are ask and approved).
  if (item.attrs.subscription === 'remove') return { jid: bare, remove: true, name: null, groups: [] };

  // An empty name is taken as no name, as clients send name='' to clear it.
  const name = item.attrs.name || null;
  if (name !== null && length(name) > maxTextLength) throw new StanzaError('not-acceptable', `The name is longer than ${maxTextLength} characters`);
  const groups: string[] = [];
  for (const group of item.getChildren('group')) {
    const text = group.getText();
    if (text === '') throw new StanzaError('not-acceptable', 'A group name is empty; leave out <group/> to put an item in no group');
    if (length(text) > maxTextLength) throw new StanzaError('not-acceptable', `A group name is longer than ${maxTextLength} characters`);
    if (groups.includes(text)) throw new StanzaError('bad-request', `The group '${text}' is given twice`);
    groups.push(text);
  }
  if (groups.length > maxGroups) throw new StanzaError('not-acceptable', `An item may be in at most ${maxGroups} groups`);
  if (Buffer.byteLength(JSON.stringify(groups), 'utf8') > MAX_GROUPS_BYTES) {
    throw new StanzaError('not-acceptable', `The group names are too long together: an item stores at most ${MAX_GROUPS_BYTES} bytes of them`);
  }
  return { jid: bare, remove: false, name, groups };
}
