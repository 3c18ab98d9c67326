// Message Archive Management (XEP-0313) for accounts, with stanza ids (XEP-0359) and RSM
// paging (XEP-0059). Every message an account sends or receives that is worth keeping
// (archive-rules.ts) goes into the sender's archive and the recipient's, as the owners'
// preferences allow; the received copy carries its archive id as <stanza-id/> wherever it
// is delivered.
//
// Where: the node that routes the message archives both copies, before it is handed to
// the recipient's session, which may be on another node. That is the sender's node: a
// stanza for a session elsewhere crosses the cluster as bytes and fires no event there
// (Kernel.deliverSerialized), so no second node can archive it again, and the archive id
// is chosen before the message leaves.
//
// When: the archive id is chosen and stamped at once; the rows are written after delivery
// (archive-writer.ts), in arrival order per account. A query first waits for what this node
// still has to write for the account, so a client that reads its archive right after a
// message finds it.
import type { XmppModule } from '../../extension/module-context.ts';
import type { JID } from '../../jid/jid.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { ArchivePrefs } from '../../storage/types.ts';
import { KeyedQueue } from '../../util/keyed-queue.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import type { RosterApi } from '../roster/index.ts';
import { archivable } from './archive-rules.ts';
import { runArchiveQuery } from './archive-query.ts';
import { ArchiveWriter } from './archive-writer.ts';
import { NS_MAM, parsePrefs, prefsElement, shouldArchive } from './prefs.ts';
import { PrefsCache } from './prefs-cache.ts';
import { queryFormElement } from './query-form.ts';
import { NS_SID, newArchiveId, stampStanzaId, stripOwnStanzaIds } from './stanza-id.ts';

const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
/** Preferences changed on another node: forget the copy here. */
const PREFS_CHANGED_REMOTE = 'remote/mam-prefs-changed';
/** Above the other modules' message hooks: carbons and offline storage get the stamped message. */
const HOOK_PRIORITY = 100;
/** How often the retention timer looks at the clock; the purge itself runs per xmpp.mam.purge-interval. */
const PURGE_TICK_MS = 1000;
const PURGE_CHUNK = 1000;
/** Purge rounds per run: a huge backlog is worked off over several runs instead of one long one. */
const PURGE_ROUNDS = 100;

export const MAM_PROPERTIES = {
  default: {
    name: 'xmpp.mam.default',
    type: 'string',
    default: 'always',
    choices: ['always', 'roster', 'never'],
    description: 'What is archived for an account that has set no preferences of its own: always, roster (contacts in the roster only) or never',
    live: true,
  } satisfies PropertyDefinition<string>,
  maxPage: {
    name: 'xmpp.mam.max-page',
    type: 'integer',
    default: 100,
    min: 1,
    max: 1000,
    description: 'Most messages one archive query returns in a page; a larger RSM <max/> gets this many (also the most ids one query may name)',
    live: true,
  } satisfies PropertyDefinition<number>,
  countLimit: {
    name: 'xmpp.mam.count-limit',
    type: 'integer',
    default: 1000,
    min: 0,
    max: 10000000,
    description: 'Archive queries count the matching messages up to this many; a larger result set is answered without <count/> and index (0: never count)',
    live: true,
  } satisfies PropertyDefinition<number>,
  retentionDays: {
    name: 'xmpp.mam.retention-days',
    type: 'integer',
    default: 0,
    min: 0,
    max: 36500,
    description: 'Days archived messages are kept; older ones are deleted (0: kept until the account is deleted)',
    live: true,
  } satisfies PropertyDefinition<number>,
  purgeInterval: {
    name: 'xmpp.mam.purge-interval',
    type: 'duration',
    default: 3600,
    min: 1,
    max: 86400,
    description: 'Seconds between two runs of the purge of messages older than xmpp.mam.retention-days',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxPending: {
    name: 'xmpp.mam.max-pending',
    type: 'integer',
    default: 10000,
    min: 100,
    max: 1000000,
    description: 'Archive rows one node may hold while the database is slow or down; beyond it new rows are dropped (the messages are still delivered) and a warning is logged',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxPrefsJids: {
    name: 'xmpp.mam.prefs.max-jids',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100000,
    description: 'Most JIDs in each of an account\'s always and never lists; more are refused with <not-acceptable/>',
    live: true,
  } satisfies PropertyDefinition<number>,
  prefsCacheSize: {
    name: 'xmpp.mam.prefs.cache-size',
    type: 'integer',
    default: 10000,
    min: 0,
    max: 10000000,
    description: 'Accounts whose archiving preferences each node keeps in memory (0: read them for every message)',
    live: true,
  } satisfies PropertyDefinition<number>,
};

export const mamModule: XmppModule = {
  name: 'mam',
  properties: Object.values(MAM_PROPERTIES),
  depends: ['roster'],
  storage: ['archive', 'users'],
  load(ctx) {
    const { kernel, domain } = ctx;
    const archive = ctx.repository('archive');
    const users = ctx.repository('users');
    const roster = ctx.dependency<RosterApi>('roster').store;
    const prop = <T extends string | number>(d: PropertyDefinition<T>) => ctx.property<T>(d);
    const serverDefault = prop(MAM_PROPERTIES.default);
    const maxPage = prop(MAM_PROPERTIES.maxPage);
    const countLimit = prop(MAM_PROPERTIES.countLimit);
    const retentionDays = prop(MAM_PROPERTIES.retentionDays);
    const purgeInterval = prop(MAM_PROPERTIES.purgeInterval);
    const maxPending = prop(MAM_PROPERTIES.maxPending);
    const maxPrefsJids = prop(MAM_PROPERTIES.maxPrefsJids);
    const prefsCacheSize = prop(MAM_PROPERTIES.prefsCacheSize);

    ctx.feature(NS_MAM, { account: true });
    ctx.feature(NS_MAM_EXTENDED, { account: true });
    ctx.feature(NS_SID, { account: true });

    const writer = new ArchiveWriter(archive, () => maxPending.value, ctx.log);
    ctx.metric({ name: 'xmppd_archive_rows_pending', type: 'gauge', help: 'Message archive rows waiting for the database (xmpp.mam.max-pending at most)', read: () => writer.pending });
    ctx.metric({
      name: 'xmppd_archive_rows_dropped_total', type: 'counter', read: () => writer.dropped,
      help: 'Message archive rows dropped since start (the database was behind or failed); their messages were delivered',
    });
    const prefsCache = new PrefsCache(archive, () => prefsCacheSize.value);
    ctx.watch(prefsCacheSize, () => prefsCache.clear());
    // Decisions for one archive run in order: one that waits for a read (preferences not
    // cached, a roster lookup) holds back the account's later messages, not others'.
    const decisions = new KeyedQueue((err) => kernel.reportError('archiving a message failed', err));

    const effective = (prefs: ArchivePrefs | null): ArchivePrefs =>
      prefs ?? { default: serverDefault.value as ArchivePrefs['default'], always: [], never: [] };
    const inRoster = (owner: string, contact: string) => async (): Promise<boolean> => (await roster.get(owner, contact))?.added === true;

    /** What the preferences say without reading anything: undefined when a read is needed. */
    const knownDecision = (owner: string, contact: string): boolean | undefined => {
      const cached = prefsCache.peek(owner);
      if (cached === undefined) return undefined;
      const decided = shouldArchive(effective(cached), contact, () => Promise.resolve(false));
      return typeof decided === 'boolean' ? decided : undefined;
    };

    /** Archives a row for `owner` if its preferences allow, after the owner's earlier rows. */
    const archiveFor = (owner: string, contact: JID, outgoing: boolean, id: string, stanza: string, at: Date, mustExist: boolean): void => {
      const bare = contact.bareString();
      // The common case, decided from memory with nothing queued for the account, builds no
      // closure: this runs twice for every message.
      if (!mustExist && !decisions.pending(owner)) {
        const known = knownDecision(owner, bare);
        if (known === false) return;
        if (known === true) {
          writer.add({ owner, id, with: bare, withResource: contact.resource || null, outgoing, at, stanza });
          return;
        }
      }
      const add = (): void => {
        writer.add({ owner, id, with: bare, withResource: contact.resource || null, outgoing, at, stanza });
      };
      decisions.run(owner, () => {
        const known = knownDecision(owner, bare);
        if (known === false) return;
        if (known === true && !mustExist) {
          add();
          return;
        }
        return (async () => {
          // An account with no session anywhere may not exist: the kernel bounces the
          // message then, and there is no archive to put it in.
          if (mustExist && !(await users.exists(owner))) return;
          const prefs = effective(await prefsCache.get(owner));
          if (await shouldArchive(prefs, bare, inRoster(owner, bare))) add();
        })();
      });
    };

    /**
     * The sender's archive id, chosen as the client's message is routed (stanza/pre-route,
     * above carbons at -20): stamped then, it is in the sent carbons, so the sender's other
     * resources learn it too. onMessage strips it again (its `by` is ours) before the
     * recipient gets the message, and files the sent row under it.
     */
    const sentIds = new WeakMap<Element, string>();
    ctx.hook<StanzaEvent>('stanza/pre-route', (ev) => {
      const stanza = ev.stanza;
      if (!ev.origin || stanza.name !== 'message' || stanza.attrs.type === 'error') return false;
      const { from, to } = ev;
      if (to.domain !== domain || to.local === '' || from.local === to.local) return false;
      stripOwnStanzaIds(stanza, domain);
      if (!archivable(stanza)) return false;
      const id = newArchiveId();
      sentIds.set(stanza, id);
      stampStanzaId(stanza, id, from.bareString());
      return false;
    }, -15);

    const onMessage = (ev: StanzaEvent): boolean => {
      const stanza = ev.stanza;
      if (stanza.attrs.type === 'error') return false;
      stripOwnStanzaIds(stanza, domain);
      if (!archivable(stanza)) return false;
      const { from, to } = ev;
      if (to.local === '') return false; // the server's own resources keep no archive
      const at = new Date();
      const fromAccount = from.domain === domain && from.local !== '';
      const ownArchive = fromAccount && from.local === to.local;
      // The sender's copy is the message as sent, before the recipient's id is added.
      const sent = fromAccount && !ownArchive ? serialized(stanza) : undefined;
      if (sent !== undefined) archiveFor(from.local, to, true, sentIds.get(stanza) ?? newArchiveId(), sent, at, false);
      const owner = to.local;
      const by = `${owner}@${domain}`;
      if (knownDecision(owner, from.bareString()) === false) return false;
      // Stamped before delivery, even while the decision waits for a read: the id must
      // travel with the message. If the preferences then say no, the message carries an
      // id the archive does not know, which is harmless (XEP-0359 ids are only unique).
      const id = newArchiveId();
      stampStanzaId(stanza, id, by);
      const online = kernel.routes(by).length > 0;
      archiveFor(owner, from, false, id, withLastChild(sent, stanza), at, !online);
      return false;
    };
    ctx.hook<StanzaEvent>('message/bare', onMessage, HOOK_PRIORITY);
    ctx.hook<StanzaEvent>('message/full', onMessage, HOOK_PRIORITY);

    /** The account's own archive only; anything else is forbidden. */
    const ownerOf = (from: JID, to: JID): string => {
      if (from.domain !== domain || from.local === '' || to.bareString() !== from.bareString()) {
        throw new StanzaError('forbidden', 'only the owner may use an archive');
      }
      return from.local;
    };

    /** Waits for the rows this node still has to write for the account. */
    const settled = async (owner: string): Promise<void> => {
      await decisions.exclusive(owner, () => Promise.resolve());
      await writer.flushed();
    };

    ctx.iq('bare', 'get', NS_MAM, async ({ payload, from, to }) => {
      const owner = ownerOf(from, to);
      if (payload.localName === 'query') return queryFormElement();
      if (payload.localName !== 'prefs') throw new StanzaError('bad-request', 'expected <query/> or <prefs/>');
      return prefsElement(effective(await prefsCache.get(owner)));
    });

    ctx.iq('bare', 'set', NS_MAM, async ({ payload, from, to, origin }) => {
      const owner = ownerOf(from, to);
      if (payload.localName === 'prefs') {
        const prefs = parsePrefs(payload, maxPrefsJids.value);
        await archive.setPrefs(owner, prefs);
        prefsCache.set(owner, prefs);
        kernel.broadcast(PREFS_CHANGED_REMOTE, { username: owner });
        return prefsElement(prefs);
      }
      if (payload.localName !== 'query') throw new StanzaError('bad-request', 'expected <query/> or <prefs/>');
      await settled(owner);
      const requester = from.toString();
      return runArchiveQuery(archive, {
        owner,
        archiveJid: from.bareString(),
        query: payload,
        send: (message: Element) => {
          message.attrs.to = requester;
          if (origin && !origin.closed) origin.send(message);
          else void kernel.deliverToFull(requester, message);
        },
      }, { maxPage: maxPage.value, countLimit: countLimit.value });
    });

    ctx.hook<{ username: string }>(PREFS_CHANGED_REMOTE, ({ username }) => {
      prefsCache.forget(username);
    });

    ctx.onAccountDeleted(async (username) => {
      // Rows still on their way would otherwise land after the deletion.
      await settled(username);
      await archive.deleteOwner(username);
      prefsCache.forget(username);
      kernel.broadcast(PREFS_CHANGED_REMOTE, { username });
    });

    // Retention: every node runs the purge (each deletes what is old, the others then find
    // less), so no node has to be elected for it.
    let lastPurge = Date.now();
    let purging = false;
    ctx.every(PURGE_TICK_MS, () => {
      const days = retentionDays.value;
      if (days <= 0 || purging || Date.now() - lastPurge < purgeInterval.value * 1000) return;
      purging = true;
      lastPurge = Date.now();
      const before = new Date(Date.now() - days * 86_400_000);
      void (async () => {
        let total = 0;
        for (let round = 0; round < PURGE_ROUNDS; round++) {
          const n = await archive.purge(before, PURGE_CHUNK);
          total += n;
          if (n < PURGE_CHUNK) break;
        }
        if (total) ctx.log.info('archived messages past retention deleted', { deleted: total, before: before.toISOString() });
      })().catch((err: unknown) => kernel.reportError('archive purge failed', err)).finally(() => {
        purging = false;
      });
    });

    ctx.onUnload(() => writer.flushed());
  },
};

const END = '</message>';

/**
 * The stanza serialized, from its text before its last child was appended when there is
 * one: the received copy is the sent one plus the stanza-id, and one serialization less per
 * message counts.
 */
function withLastChild(before: string | undefined, stanza: Element): string {
  const last = stanza.children[stanza.children.length - 1];
  if (before === undefined || typeof last !== 'object' || !before.endsWith(END) || stanza.children.length < 2) return serialized(stanza);
  return before.slice(0, -END.length) + last.toString() + END;
}

function serialized(stanza: Element): string {
  if (stanza.attrs.xmlns !== undefined) return stanza.toString();
  // Stanzas from the stream inherit jabber:client; the stored copy must say so itself.
  stanza.attrs.xmlns = 'jabber:client';
  const text = stanza.toString();
  delete stanza.attrs.xmlns;
  return text;
}
