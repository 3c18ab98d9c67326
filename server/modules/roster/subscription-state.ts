// The subscription state machine of RFC 6121 Appendix A. A roster item's state is four
// flags: whether the user receives the contact's presence (to), whether the contact receives
// the user's (from), and a pending request in either direction. Each presence stanza of a
// subscription type either changes the state and is passed on, or changes nothing and is
// swallowed, and the tables reduce to a few symmetric rules, written out below.
import type { Subscription } from '../../storage/types.ts';

export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

export interface SubState {
  to: boolean;
  from: boolean;
  /** The user asked the contact (Pending Out). */
  askOut: boolean;
  /** The contact asked the user (Pending In). */
  askIn: boolean;
}

export interface Transition {
  /** Route (outbound) or deliver (inbound) the stanza; false means it is dropped silently. */
  pass: boolean;
  /** The state afterwards, or null when nothing changes. */
  next: SubState | null;
  /** Inbound only: the server answers on the user's behalf with this type. */
  autoReply?: 'subscribed';
}

export const NONE: SubState = Object.freeze({ to: false, from: false, askOut: false, askIn: false });

export function isSubscriptionType(type: string | undefined): type is SubscriptionType {
  return type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed';
}

export function subscriptionOf(state: { to: boolean; from: boolean }): Subscription {
  return state.to ? (state.from ? 'both' : 'to') : state.from ? 'from' : 'none';
}

export function stateOf(item: { subscription: Subscription; askOut: boolean; askIn: boolean } | null): SubState {
  if (!item) return NONE;
  const s = item.subscription;
  return { to: s === 'to' || s === 'both', from: s === 'from' || s === 'both', askOut: item.askOut, askIn: item.askIn };
}

const change = (state: SubState, delta: Partial<SubState>): Transition => ({ pass: true, next: { ...state, ...delta } });
const unchanged = (pass: boolean): Transition => ({ pass, next: null });

/** A.2: the user sends a subscription stanza to the contact. */
export function outbound(type: SubscriptionType, s: SubState): Transition {
  switch (type) {
    // A.2.1: always routed (the contact's server may have lost the request).
    case 'subscribe':
      return s.to || s.askOut ? unchanged(true) : change(s, { askOut: true });
    // A.2.2: always routed.
    case 'unsubscribe':
      return s.to || s.askOut ? change(s, { to: false, askOut: false }) : unchanged(true);
    // A.2.3: only an answer to a pending request is routed (pre-approval is the caller's).
    case 'subscribed':
      return s.askIn && !s.from ? change(s, { from: true, askIn: false }) : unchanged(false);
    // A.2.4: cancels the contact's subscription or denies its request.
    case 'unsubscribed':
      return s.from || s.askIn ? change(s, { from: false, askIn: false }) : unchanged(false);
  }
}

/** A.3: the contact's subscription stanza reaches the user's server. */
export function inbound(type: SubscriptionType, s: SubState): Transition {
  switch (type) {
    // A.3.1: a contact that is already subscribed is told so again; a repeated request is not delivered twice.
    case 'subscribe':
      if (s.from) return { pass: false, next: null, autoReply: 'subscribed' };
      return s.askIn ? unchanged(false) : change(s, { askIn: true });
    // A.3.2
    case 'unsubscribe':
      return s.from || s.askIn ? change(s, { from: false, askIn: false }) : unchanged(false);
    // A.3.3: only an approval the user asked for counts.
    case 'subscribed':
      return s.askOut && !s.to ? change(s, { to: true, askOut: false }) : unchanged(false);
    // A.3.4
    case 'unsubscribed':
      return s.to || s.askOut ? change(s, { to: false, askOut: false }) : unchanged(false);
  }
}
