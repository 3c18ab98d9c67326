// RFC 6121 section 3 on the contact's side: a subscription stanza addressed to one of our
// accounts updates that account's roster item for the sender (Appendix A.3) and is
// delivered, or is swallowed when it changes nothing. Pending requests are kept with their
// stanza and delivered again at each initial presence until answered (3.1.3).
import type { JID } from '../../jid/jid.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { RosterItem } from '../../storage/types.ts';
import type { Element } from '../../xml/element.ts';
import { stamped, stored, subscriptionPresence, withState } from './item-update.ts';
import type { SubscriptionDeps } from './outbound-subscription.ts';
import { deliverToAvailable, deliverToInterested, sendPresenceOf, sendUnavailableOf } from './resources.ts';
import { newItem } from './roster-item.ts';
import type { ItemChange } from './roster-store.ts';
import { inbound, stateOf, type SubscriptionType } from './subscription-state.ts';

export function handleInbound(d: SubscriptionDeps, ev: StanzaEvent): void {
  const userBare = ev.to.bare();
  const sender = ev.from.bare().toString();
  if (sender === userBare.toString()) return;
  const stanza = stamped(ev.stanza, sender, userBare.toString());
  d.store.queue.run(userBare.local, () => applyInbound(d, userBare, sender, ev.stanza.attrs.type as SubscriptionType, stanza));
}

async function applyInbound(d: SubscriptionDeps, userBare: JID, sender: string, type: SubscriptionType, stanza: Element): Promise<void> {
  const { kernel, store } = d;
  const reply = (answer: 'subscribed' | 'unsubscribed'): void =>
    kernel.route(subscriptionPresence(answer, userBare.toString(), sender), userBare);
  await store.change(userBare.local, sender, async (item): Promise<ItemChange> => {
    const state = stateOf(item);
    if (type === 'subscribe') {
      // RFC 6121 8.5.1: a request to an account that does not exist is refused at once.
      if (!item && !(await accountExists(d, userBare))) return { after: () => reply('unsubscribed') };
      // 3.4: the user approved in advance; the server answers for it.
      if (item?.approved && !state.from) {
        return {
          write: stored(item, withState(item, { ...state, from: true, askIn: false })),
          after: () => {
            reply('subscribed');
            sendPresenceOf(kernel, userBare, sender);
          },
        };
      }
    }

    const t = inbound(type, state);
    let write: RosterItem | null | undefined;
    if (t.next) {
      const next: RosterItem = withState(item ?? newItem(sender, false), t.next);
      if (type === 'subscribe') next.askInStanza = stanza.toString();
      write = stored(item, next);
    }
    return {
      write,
      after: () => {
        if (t.autoReply) reply(t.autoReply);
        if (!t.pass) return;
        if (type === 'subscribe') deliverToAvailable(kernel, userBare.toString(), stanza);
        else deliverToInterested(kernel, userBare.toString(), stanza);
        // 3.3.3: the contact no longer sees the user, and learns that the user's resources are gone.
        if (type === 'unsubscribe' && state.from) sendUnavailableOf(kernel, userBare, sender);
      },
    };
  });
}

async function accountExists(d: SubscriptionDeps, userBare: JID): Promise<boolean> {
  if (d.kernel.routes(userBare.toString()).length) return true;
  return d.users.exists(userBare.local);
}
