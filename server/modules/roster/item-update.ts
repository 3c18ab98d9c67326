// Writing a subscription state back into a roster item.
import type { RosterItem } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { isEmpty, isVisible } from './roster-item.ts';
import { subscriptionOf, type SubState } from './subscription-state.ts';

export function withState(item: RosterItem, s: SubState): RosterItem {
  return {
    ...item,
    subscription: subscriptionOf(s),
    askOut: s.askOut,
    askIn: s.askIn,
    askInStanza: s.askIn ? item.askInStanza : null,
    // A pre-approval is used up once the contact is subscribed.
    approved: s.from ? false : item.approved,
  };
}

/**
 * What to store for a changed item. An item that only held a request and now holds nothing
 * was never in the user's roster, so it goes away (null) instead of turning up as an empty
 * contact, or is not stored at all (undefined).
 */
export function stored(previous: RosterItem | null, next: RosterItem): RosterItem | null | undefined {
  if (isEmpty(next) && (previous === null || !isVisible(previous))) return previous ? null : undefined;
  return next;
}

/** A subscription stanza as it travels between accounts: from and to are bare JIDs (RFC 6121 3.1.2). */
export function stamped(stanza: Element, from: string, to: string): Element {
  const copy = stanza.clone();
  copy.attrs.xmlns ??= 'jabber:client';
  copy.attrs.from = from;
  copy.attrs.to = to;
  return copy;
}

export function subscriptionPresence(type: string, from: string, to: string): Element {
  return xml('presence', { xmlns: 'jabber:client', type, from, to });
}
