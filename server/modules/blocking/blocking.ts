// Blocking Command (XEP-0191). A user keeps a list of blocked JIDs; the check runs on every
// routed stanza (stanza/pre-route) against lists cached in memory, so a user with an empty
// list costs two map lookups per stanza.
//
// Inbound, from a blocked JID: presence is dropped, messages and IQ get/set are answered
// with service-unavailable, as XEP-0191 3.3 suggests, so the user seems offline.
// Outbound, to a blocked JID: messages and IQ get/set are answered with not-acceptable and
// <blocked/>; presence is dropped without an error, because most of it is broadcast by the
// server on the user's behalf and an error for each copy would only be noise.
import { randomBytes } from 'node:crypto';
import { JID } from '../../jid/jid.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { SessionEvent } from '../../session/session-manager.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError, errorReply } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import type { IqRequest, XmppModule } from '../../extension/module-context.ts';
import { BlocklistCache } from './blocklist-cache.ts';
import { isBlocked } from './jid-match.ts';

const NS_BLOCKING = 'urn:xmpp:blocking';
const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';
/** Key in ClientSession.data: the session asked for the blocklist and gets pushes. */
const INTERESTED = 'blocking';

/** A block list changed on another node of the cluster: forget the copy here, push to resources here. */
const BLOCKLIST_CHANGED_REMOTE = 'remote/blocklist-changed';
interface BlocklistChangedRemote {
  username: string;
  /** The <block/> or <unblock/> element pushed to interested resources, serialized. */
  push: string;
}
const EMPTY: ReadonlySet<string> = new Set();
/** Lists of users without a session here are forgotten after this long. */
const UNPINNED_TTL_MS = 60_000;

export const BLOCKING_PROPERTIES = {
  maxItems: {
    name: 'xmpp.blocking.max-items',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100000,
    description: 'Most JIDs one user may block (XEP-0191)',
    live: true,
  } satisfies PropertyDefinition<number>,
};

/** Only these get an error back; answering an error or a result would start a loop. */
function expectsAnswer(stanza: Element): boolean {
  const type = stanza.attrs.type;
  return stanza.name === 'iq' ? type === 'get' || type === 'set' : stanza.name === 'message' && type !== 'error';
}

/** The JIDs of <item/> children, prepared and without duplicates. */
function itemJids(payload: Element): string[] {
  const out = new Set<string>();
  for (const item of payload.getChildren('item')) {
    const raw = item.attrs.jid;
    if (raw === undefined) throw new StanzaError('bad-request', 'An <item/> lacks its jid attribute');
    const jid = JID.tryParse(raw);
    if (!jid) throw new StanzaError('jid-malformed', `Not a valid JID: ${raw}`);
    out.add(jid.toString());
  }
  return [...out];
}

function itemsElement(name: string, jids: Iterable<string>): Element {
  const el = xml(name, { xmlns: NS_BLOCKING });
  for (const jid of jids) el.c('item', { jid });
  return el;
}

export const blockingModule: XmppModule = {
  name: 'blocking',
  properties: Object.values(BLOCKING_PROPERTIES),
  storage: ['blocklist', 'roster'],
  load(ctx) {
    const { kernel, domain } = ctx;
    const rosters = ctx.repository('roster');
    const blocklists = ctx.repository('blocklist');
    const cache = new BlocklistCache(blocklists);
    const maxItems = ctx.property<number>(BLOCKING_PROPERTIES.maxItems);
    ctx.feature(NS_BLOCKING);

    /** Stanzas this module routes itself (its errors, unavailable presence), which its own check lets pass. */
    const exempt = new WeakSet<Element>();
    const routeExempt = (stanza: Element, from: JID): void => {
      exempt.add(stanza);
      kernel.route(stanza, from);
    };
    const localUser = (jid: JID): string | null => (jid.local !== '' && jid.domain === domain ? jid.local : null);
    const bareOf = (username: string): string => `${username}@${domain}`;
    const hasLocalSession = (bare: string): boolean => {
      for (const _ of kernel.localSessions(bare)) return true;
      return false;
    };

    /** Applies both lists to one stanza; true if it was blocked (and answered or dropped). */
    const enforce = (ev: StanzaEvent, senderList: ReadonlySet<string>, recipientList: ReadonlySet<string>): boolean => {
      let error: StanzaError;
      if (isBlocked(recipientList, ev.from)) {
        error = new StanzaError('service-unavailable');
      } else if (isBlocked(senderList, ev.to)) {
        error = new StanzaError('not-acceptable', undefined, undefined, xml('blocked', { xmlns: NS_BLOCKING_ERRORS }));
      } else {
        return false;
      }
      if (expectsAnswer(ev.stanza)) routeExempt(errorReply(ev.stanza, error), ev.to);
      return true;
    };

    ctx.hook<StanzaEvent>('stanza/pre-route', (ev) => {
      if (exempt.has(ev.stanza)) {
        exempt.delete(ev.stanza);
        return false;
      }
      const sender = localUser(ev.from);
      const recipient = localUser(ev.to);
      // Neither end is a user of ours, a user talks to itself, or the server itself speaks
      // (IQ results, pushes): nothing to check.
      if (sender === recipient || ev.from.equals(kernel.domainJid)) return false;
      const senderList = sender === null ? EMPTY : cache.peek(sender);
      const recipientList = recipient === null ? EMPTY : cache.peek(recipient);
      if (senderList && recipientList) return enforce(ev, senderList, recipientList);
      // A list is not in memory (a user with no session here): load it, then route again.
      // Later stanzas wait on the same load, so their order is kept.
      Promise.all([sender === null ? EMPTY : cache.get(sender), recipient === null ? EMPTY : cache.get(recipient)])
        .then(([s, r]) => {
          if (!enforce(ev, s, r)) {
            exempt.add(ev.stanza);
            kernel.route(ev.stanza, ev.from, ev.origin);
          }
        }, (err) => {
          kernel.reportError('loading a blocklist failed', err);
          kernel.bounce(ev.stanza, new StanzaError('internal-server-error'));
        });
      return true;
    }, 100);

    ctx.hook<SessionEvent>('session/bound', ({ session }) => {
      cache.get(session.jid.local).catch((err) => kernel.reportError('loading a blocklist failed', err));
    });
    const sweeper = setInterval(() => {
      cache.sweep(UNPINNED_TTL_MS, (username) => hasLocalSession(bareOf(username)));
    }, UNPINNED_TTL_MS / 2);
    sweeper.unref();
    ctx.onUnload(() => clearInterval(sweeper));

    const own = (req: IqRequest): string => {
      if (req.from.bareString() !== req.to.bareString()) throw new StanzaError('forbidden', 'A blocklist belongs to its owner only');
      return req.to.local;
    };

    /** XEP-0191 3.3/3.4: every resource that asked for the blocklist hears of a change. */
    const pushHere = (username: string, payload: Element): void => {
      for (const s of kernel.localSessions(bareOf(username))) {
        if (s.data.get(INTERESTED) !== true) continue;
        s.send(xml('iq', { type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: s.jid.toString() }, payload.clone()));
      }
    };
    // On every node: the resources there hear of it, and the list cached there is stale.
    const push = (username: string, payload: Element): void => {
      pushHere(username, payload);
      kernel.broadcast(BLOCKLIST_CHANGED_REMOTE, { username, push: payload.toString() } satisfies BlocklistChangedRemote);
    };
    ctx.hook<BlocklistChangedRemote>(BLOCKLIST_CHANGED_REMOTE, ({ username, push: payload }) => {
      cache.forget(username);
      pushHere(username, parseXml(payload));
    });

    /** Contacts that receive the user's presence (subscription from/both) covered by `entries`. */
    const subscribersCovered = async (username: string, entries: ReadonlySet<string>): Promise<JID[]> => {
      const out: JID[] = [];
      for (const item of await rosters.list(username)) {
        if (item.subscription !== 'from' && item.subscription !== 'both') continue;
        const jid = JID.tryParse(item.jid);
        if (jid && isBlocked(entries, jid)) out.push(jid);
      }
      return out;
    };

    /** XEP-0191 3.3: newly blocked contacts see every available resource go offline. */
    const sendUnavailable = async (username: string, blocked: ReadonlySet<string>): Promise<void> => {
      const resources = kernel.routes(bareOf(username)).filter((r) => r.available);
      if (!resources.length) return;
      const targets = new Map<string, JID>();
      for (const jid of await subscribersCovered(username, blocked)) targets.set(jid.toString(), jid);
      for (const s of kernel.localSessions(bareOf(username))) {
        for (const d of s.directedPresence) {
          const jid = JID.tryParse(d);
          if (jid && isBlocked(blocked, jid)) targets.set(jid.toString(), jid);
        }
      }
      for (const r of resources) {
        const from = JID.parse(r.jid);
        for (const to of targets.keys()) routeExempt(xml('presence', { type: 'unavailable', from: r.jid, to }), from);
      }
    };

    /** XEP-0191 3.4: unblocked contacts get the current presence of each available resource. */
    const sendCurrentPresence = async (username: string, freed: ReadonlySet<string>, stillBlocked: ReadonlySet<string>): Promise<void> => {
      const available = [...kernel.localSessions(bareOf(username))].filter((s) => s.presence !== null);
      if (!available.length) return;
      const targets = (await subscribersCovered(username, freed)).filter((jid) => !isBlocked(stillBlocked, jid));
      for (const s of available) {
        for (const to of targets) {
          const presence = s.presence!.clone();
          presence.attrs.xmlns ??= 'jabber:client';
          presence.attrs.from = s.jid.toString();
          presence.attrs.to = to.toString();
          delete presence.attrs.id;
          kernel.route(presence, s.jid);
        }
      }
    };

    /** Work after the IQ result: pushes and presence come after the answer, as in the XEP. */
    const afterwards = (what: string, fn: () => void | Promise<void>): void => {
      setImmediate(() => {
        Promise.resolve().then(fn).catch((err) => kernel.reportError(what, err));
      });
    };

    ctx.iq('bare', 'get', NS_BLOCKING, async (req) => {
      const username = own(req);
      if (!req.payload.is('blocklist')) throw new StanzaError('bad-request', 'Expected <blocklist/>');
      const list = await cache.get(username);
      req.origin?.data.set(INTERESTED, true);
      return itemsElement('blocklist', [...list].sort());
    });

    ctx.iq('bare', 'set', NS_BLOCKING, async (req) => {
      const username = own(req);
      const { payload } = req;
      if (payload.is('block')) {
        const jids = itemJids(payload);
        if (!jids.length) throw new StanzaError('bad-request', 'Name at least one JID to block');
        const { before } = await cache.change(username, async (current) => {
          const added = jids.filter((j) => !current.has(j)).length;
          if (current.size + added > maxItems.value) {
            throw new StanzaError('policy-violation', `At most ${maxItems.value} JIDs can be blocked`);
          }
          await blocklists.add(username, jids);
        });
        const fresh = new Set(jids.filter((j) => !before.has(j)));
        afterwards('blocking: notifying resources failed', async () => {
          push(username, itemsElement('block', jids));
          if (fresh.size) await sendUnavailable(username, fresh);
        });
        return;
      }
      if (payload.is('unblock')) {
        const jids = itemJids(payload);
        // No item: unblock everyone (XEP-0191 3.5).
        const { before, after } = await cache.change(username, () => blocklists.remove(username, jids));
        const freed = new Set(jids.length ? jids.filter((j) => before.has(j)) : before);
        afterwards('unblocking: notifying resources failed', async () => {
          push(username, itemsElement('unblock', jids));
          if (freed.size) await sendCurrentPresence(username, freed, after);
        });
        return;
      }
      throw new StanzaError('bad-request', 'Expected <block/> or <unblock/>');
    });
  },
};
