// A roster item as the client sees it (RFC 6121 2.1.2) and the rules about which stored
// items the client sees at all.
import type { RosterItem } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';

export const NS_ROSTER = 'jabber:iq:roster';

export function hasTo(item: RosterItem | null): boolean {
  return item !== null && (item.subscription === 'to' || item.subscription === 'both');
}

export function hasFrom(item: RosterItem | null): boolean {
  return item !== null && (item.subscription === 'from' || item.subscription === 'both');
}

/**
 * A new item. `byUser`: the user put it in the roster (a roster set, or a subscription stanza
 * the user sent, which RFC 6121 3.1.2 and 3.4 have add the contact), as opposed to an item
 * that only records a contact's request (see isVisible).
 */
export function newItem(jid: string, byUser: boolean): RosterItem {
  return { jid, name: null, subscription: 'none', askOut: false, askIn: false, askInStanza: null, approved: false, added: byUser, groups: [] };
}

/**
 * RFC 6121 3.1.3: a contact's pending request does not put the contact in the user's roster.
 * Storage keeps such requests as items; one the user never added is hidden while all it
 * holds is the request.
 */
export function isVisible(item: RosterItem): boolean {
  return item.added || !item.askIn || item.subscription !== 'none' || item.askOut || item.approved;
}

/** An item the user never added that holds nothing any more (a request that was answered). */
export function isEmpty(item: RosterItem): boolean {
  return !item.added && item.subscription === 'none' && !item.askOut && !item.askIn && !item.approved;
}

export function itemElement(item: RosterItem): Element {
  const el = xml('item', {
    jid: item.jid,
    name: item.name || undefined,
    subscription: item.subscription,
    ask: item.askOut ? 'subscribe' : undefined,
    approved: item.approved ? 'true' : undefined,
  });
  for (const group of item.groups) el.append(xml('group', null, group));
  return el;
}

/** What a client sees of an item (its roster push), or null when it sees nothing. */
export function visibleElement(item: RosterItem | null): Element | null {
  return item && isVisible(item) ? itemElement(item) : null;
}

export function removedElement(jid: string): Element {
  return xml('item', { jid, subscription: 'remove' });
}
