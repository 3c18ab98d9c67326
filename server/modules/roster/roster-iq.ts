// Roster get and set (RFC 6121 2.1 to 2.5) with versioning (2.6).
import { JID } from '../../jid/jid.ts';
import type { RosterItem } from '../../storage/types.ts';
import { xml } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import type { IqHandler, IqRequest } from '../../extension/module-context.ts';
import { subscriptionPresence } from './item-update.ts';
import type { SubscriptionDeps } from './outbound-subscription.ts';
import { sendUnavailableOf } from './resources.ts';
import { hasFrom, hasTo, isVisible, itemElement, newItem, NS_ROSTER } from './roster-item.ts';
import { parseRosterSet, type RosterSetLimits } from './roster-set-request.ts';
import type { ItemChange } from './roster-store.ts';

export interface RosterIqDeps extends SubscriptionDeps {
  /** The current limits on a roster set. */
  setLimits(): RosterSetLimits;
}

/** 2.1.5 / 2.3.3: only the account itself may read or change its roster. */
function owner(req: IqRequest): string {
  if (req.from.bareString() !== req.to.bareString()) throw new StanzaError('forbidden', 'A roster belongs to its owner only');
  return req.to.local;
}

export function rosterGet(d: RosterIqDeps): IqHandler {
  return (req) => {
    const username = owner(req);
    // 2.2: asking for the roster makes a resource "interested": it gets roster pushes.
    if (req.origin) req.origin.interested = true;
    const ver = req.payload.attrs.ver;
    return d.store.queue.exclusive(username, async () => {
      const roster = await d.store.load(username);
      // 2.6.3: the client's copy is current; changes from now on arrive as pushes.
      if (ver !== undefined && ver === roster.version) return undefined;
      const query = xml('query', { xmlns: NS_ROSTER, ver: ver === undefined ? undefined : roster.version });
      for (const item of roster.items.values()) if (isVisible(item)) query.append(itemElement(item));
      return query;
    });
  };
}

export function rosterSet(d: RosterIqDeps): IqHandler {
  return (req) => {
    const username = owner(req);
    const request = parseRosterSet(req.payload, req.to.bareString(), d.setLimits());
    const done = d.store.queue.exclusive(username, () => d.store.change(username, request.jid, async (current): Promise<ItemChange> => {
      if (request.remove) {
        if (!current) throw new StanzaError('item-not-found', `${request.jid} is not in the roster`);
        return { write: null, after: () => announceRemoval(d, username, current) };
      }
      if (!current) {
        const max = d.maxItems();
        if ((await d.store.load(username)).items.size >= max) throw new StanzaError('not-allowed', `A roster holds at most ${max} items`);
      }
      // 2.4.1: an item is replaced exactly as given; its subscription state stays the server's.
      return { write: { ...(current ?? newItem(request.jid, true)), added: true, name: request.name, groups: request.groups } };
    }));
    // The cancellations a removal sent to a contact of this server are handled on the
    // contact's queue: the result waits for them, so that once a client hears its removal
    // succeeded, its contact has been told (a client that removes and at once subscribes
    // again must not have its new request overtaken by the old cancellation). Waited for
    // outside the user's own queue, so two users removing each other cannot deadlock.
    return done.then(async () => {
      const contact = request.remove ? localContact(d, request.jid) : null;
      if (contact !== null) await d.store.queue.exclusive(contact, async () => {});
    });
  };
}

/** The user name of a contact on this server, or null for one elsewhere. */
function localContact(d: RosterIqDeps, jid: string): string | null {
  const contact = JID.tryParse(jid);
  return contact && contact.local && contact.domain === d.kernel.domain ? contact.local : null;
}

/** 2.5.2: removing a contact cancels the subscriptions both ways, and pending requests too. */
function announceRemoval(d: RosterIqDeps, username: string, item: RosterItem): void {
  const { kernel, store } = d;
  const user = store.bareJid(username);
  if (hasFrom(item)) sendUnavailableOf(kernel, user, item.jid);
  if (hasFrom(item) || item.askIn) kernel.route(subscriptionPresence('unsubscribed', user.toString(), item.jid), user);
  if (hasTo(item) || item.askOut) kernel.route(subscriptionPresence('unsubscribe', user.toString(), item.jid), user);
}
