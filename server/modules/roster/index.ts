// Rosters and presence subscriptions (RFC 6121 sections 2 and 3): roster get/set with
// versioning, roster pushes, and the subscription state machine for stanzas leaving from
// and arriving at our accounts, with pre-approval.
import { randomBytes } from 'node:crypto';
import type { PropertyDefinition } from '../../properties/types.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { ClientSession } from '../../session/client-session.ts';
import type { RosterItem } from '../../storage/types.ts';
import { xml } from '../../xml/element.ts';
import type { XmppModule } from '../../extension/module-context.ts';
import { handleInbound } from './inbound-subscription.ts';
import { stored, subscriptionPresence } from './item-update.ts';
import { handleOutbound, type SubscriptionDeps } from './outbound-subscription.ts';
import { ROSTER_CHANGED, ROSTER_CHANGED_REMOTE, ROSTER_INVALIDATE, type RosterChangedEvent, type RosterInvalidateEvent } from './roster-events.ts';
import { rosterGet, rosterSet, type RosterIqDeps } from './roster-iq.ts';
import { NS_ROSTER, removedElement, visibleElement } from './roster-item.ts';
import { RosterStore } from './roster-store.ts';
import { isSubscriptionType } from './subscription-state.ts';

const NS_ROSTERVER = 'urn:xmpp:features:rosterver';
const NS_PREAPPROVAL = 'urn:xmpp:features:pre-approval';

export const ROSTER_PROPERTIES = {
  maxItems: {
    name: 'xmpp.roster.max-items',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100000,
    description: 'Most contacts one roster may hold; adding more is refused with <not-allowed/>',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxTextLength: {
    name: 'xmpp.roster.max-text-length',
    type: 'integer',
    default: 255,
    min: 1,
    max: 1023,
    description: 'Longest roster item name or group name, in characters; longer ones are refused with <not-acceptable/>',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxGroups: {
    name: 'xmpp.roster.max-groups',
    type: 'integer',
    default: 15,
    min: 1,
    max: 1000,
    description: 'Most groups one roster item may be in; more are refused with <not-acceptable/> (so are group names taking over 65535 bytes together)',
    live: true,
  } satisfies PropertyDefinition<number>,
};

/** What the roster module offers the modules that depend on it. */
export interface RosterApi {
  /** The rosters of this node's accounts, cached while they have a session here. */
  readonly store: RosterStore;
}

export const rosterModule: XmppModule = {
  name: 'roster',
  properties: Object.values(ROSTER_PROPERTIES),
  storage: ['roster', 'users'],
  load(ctx): RosterApi {
    const { kernel } = ctx;
    const store = new RosterStore(ctx);
    const maxItems = ctx.property<number>(ROSTER_PROPERTIES.maxItems);
    const maxTextLength = ctx.property<number>(ROSTER_PROPERTIES.maxTextLength);
    const maxGroups = ctx.property<number>(ROSTER_PROPERTIES.maxGroups);
    const deps: RosterIqDeps & SubscriptionDeps = {
      kernel,
      store,
      users: ctx.repository('users'),
      maxItems: () => maxItems.value,
      setLimits: () => ({ maxTextLength: maxTextLength.value, maxGroups: maxGroups.value }),
    };

    // The contacts of a deleted account (however it was deleted): as if it had cancelled
    // every subscription and denied every request (XEP-0077 3.2), so their clients are told,
    // and what they had pre-approved for it withdrawn. A new account of that name starts as a
    // stranger to them; its own roster went with the old account's rows.
    const rosters = ctx.repository('roster');
    ctx.onAccountDeleted(async (username) => {
      const gone = store.bareJid(username);
      for (const { username: holder, item } of await rosters.holders(gone.toString())) {
        const send = (type: string): void => kernel.route(subscriptionPresence(type, gone.toString(), store.bareJid(holder).toString()), gone);
        if (item.subscription === 'from' || item.subscription === 'both' || item.askIn) send('unsubscribe');
        if (item.subscription === 'to' || item.subscription === 'both' || item.askOut) send('unsubscribed');
        if (!item.approved) continue;
        await store.queue.exclusive(holder, () => store.change(holder, gone.toString(), (current) => ({
          write: current?.approved ? stored(current, { ...current, approved: false }) : undefined,
        })));
      }
    });

    ctx.feature(NS_ROSTER);
    ctx.iq('bare', 'get', NS_ROSTER, rosterGet(deps));
    ctx.iq('bare', 'set', NS_ROSTER, rosterSet(deps));
    ctx.streamFeature((features, stream) => {
      if (!stream.authenticated) return;
      features.append(xml('ver', { xmlns: NS_ROSTERVER }), xml('sub', { xmlns: NS_PREAPPROVAL }));
    });

    // 2.1.6: every interested resource hears of every change it can see, on every node.
    const interested = (username: string): ClientSession[] =>
      [...kernel.localSessions(store.bareJid(username).toString())].filter((session) => session.interested);
    const push = (sessions: ClientSession[], jid: string, now: RosterItem | null, version: string): void => {
      const item = visibleElement(now) ?? removedElement(jid);
      for (const session of sessions) {
        session.send(xml('iq', { type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: session.jid.toString() },
          xml('query', { xmlns: NS_ROSTER, ver: version }, item.clone())));
      }
    };
    const visibleChange = (change: RosterChangedEvent): boolean =>
      visibleElement(change.previous)?.toString() !== visibleElement(change.item)?.toString();
    ctx.hook<RosterChangedEvent>(ROSTER_CHANGED, (change) => {
      if (visibleChange(change)) push(interested(change.username), change.jid, change.item, change.version);
      kernel.broadcast(ROSTER_CHANGED_REMOTE, change);
    });
    // Another node's change may arrive after this node has pushed a later change of the same
    // item (one that overtook it in storage): the push says what the item is now, read in
    // the account's queue behind this node's own changes, so no resource is left with the
    // older state. The read is the one the dropped copy would cost at the next presence.
    ctx.hook<RosterChangedEvent>(ROSTER_CHANGED_REMOTE, (change) => {
      kernel.fire<RosterInvalidateEvent>(ROSTER_INVALIDATE, { username: change.username });
      if (!visibleChange(change) || interested(change.username).length === 0) return;
      store.queue.run(change.username, async () => {
        const roster = await store.load(change.username);
        push(interested(change.username), change.jid, roster.items.get(change.jid) ?? null, roster.version);
      });
    });

    // A user's subscription stanza is handled before routing, wherever it goes, so that the
    // user's roster records the request even when the contact cannot be reached.
    ctx.hook<StanzaEvent>('stanza/pre-route', (ev) => {
      if (!ev.origin || ev.stanza.name !== 'presence' || !isSubscriptionType(ev.stanza.attrs.type)) return false;
      handleOutbound(deps, ev.from, ev.to, ev.stanza);
      return true;
    }, -10);

    // Subscription stanzas to one of our accounts; to a full JID they count as to the bare JID (3.1.3).
    const inbound = (ev: StanzaEvent): boolean => {
      if (!isSubscriptionType(ev.stanza.attrs.type)) return false;
      handleInbound(deps, ev);
      return true;
    };
    ctx.hook<StanzaEvent>('presence/bare', inbound, 10);
    ctx.hook<StanzaEvent>('presence/full', inbound, 10);
    return { store };
  },
};
