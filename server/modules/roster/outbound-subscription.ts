// RFC 6121 section 3 on the user's side: a subscription stanza from one of the user's
// resources updates the user's roster item for the contact (Appendix A.2), is stamped with
// the user's bare JID and leaves for the contact, or is swallowed when it changes nothing.
import type { JID } from '../../jid/jid.ts';
import type { UserRepository } from '../../storage/types.ts';
import type { Element } from '../../xml/element.ts';
import type { Kernel } from '../../extension/kernel.ts';
import { stamped, stored, withState } from './item-update.ts';
import { sendPresenceOf, sendUnavailableOf } from './resources.ts';
import { newItem } from './roster-item.ts';
import type { ItemChange, RosterStore } from './roster-store.ts';
import { outbound, stateOf, type SubscriptionType } from './subscription-state.ts';

export interface SubscriptionDeps {
  kernel: Kernel;
  store: RosterStore;
  users: UserRepository;
  /** Current limit on roster items (a pre-approval adds one). */
  maxItems(): number;
}

export function handleOutbound(d: SubscriptionDeps, user: JID, contact: JID, stanza: Element): void {
  const username = user.local;
  const userBare = d.store.bareJid(username);
  const contactBare = contact.bare().toString();
  // An account is subscribed to its own presence already (RFC 6121 4.2.2).
  if (contactBare === userBare.toString()) return;
  const out = stamped(stanza, userBare.toString(), contactBare);
  d.store.queue.run(username, () => applyOutbound(d, userBare, contactBare, stanza.attrs.type as SubscriptionType, out));
}

async function applyOutbound(d: SubscriptionDeps, userBare: JID, contact: string, type: SubscriptionType, out: Element): Promise<void> {
  const { kernel, store } = d;
  const username = userBare.local;
  await store.change(username, contact, async (item): Promise<ItemChange> => {
    const state = stateOf(item);
    const t = outbound(type, state);
    let next = t.next ? withState(item ?? newItem(contact, true), t.next) : item;
    // 3.1.2: asking for a subscription puts the contact in the user's roster for good.
    if (type === 'subscribe' && next && !next.added) next = { ...next, added: true };

    if (type === 'subscribed' && !t.pass && !state.from && !item?.approved) {
      // RFC 6121 3.4: approving before being asked records a pre-approval and routes nothing.
      if (item || (await store.load(username)).items.size < d.maxItems()) next = { ...(item ?? newItem(contact, true)), approved: true };
    }
    // 3.4.1: unsubscribed also withdraws a pre-approval.
    if (type === 'unsubscribed' && next?.approved) next = { ...next, approved: false };

    return {
      write: next && next !== item ? stored(item, next) : undefined,
      after: () => {
        // 3.2.2: while the contact is still subscribed, it learns that the user's resources are gone.
        if (type === 'unsubscribed' && t.pass && state.from) sendUnavailableOf(kernel, userBare, contact);
        if (t.pass) kernel.route(out, userBare);
        // 3.1.5: the newly subscribed contact gets the user's current presence.
        if (type === 'subscribed' && t.pass) sendPresenceOf(kernel, userBare, contact);
      },
    };
  });
}
