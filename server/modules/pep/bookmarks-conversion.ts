// Bookmarks Conversion (XEP-0411, and XEP-0402's #compat): the XEP-0048 bookmarks a client
// keeps in private XML storage and the PEP Native Bookmarks (XEP-0402) items are kept the
// same. Storing `<storage xmlns='storage:bookmarks'/>` publishes a conference item per
// bookmark and retracts those it no longer lists; publishing or retracting an item rewrites
// the private XML document, keeping its <url/> bookmarks, which XEP-0402 has no place for.
import type { XmppModule } from '../../extension/module-context.ts';
import { xml, type Element } from '../../xml/element.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { PRIVATE_STORED, type PrivateStoredEvent } from '../private.ts';
import type { PepApi } from './pep-api.ts';
import { PEP_PUBLISHED, PEP_RETRACTED, type PepPublishedEvent, type PepRetractedEvent } from './pep-deps.ts';

const NS_LEGACY = 'storage:bookmarks';
const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
/** The private storage key of the legacy document (private.ts: namespace and name). */
const LEGACY_KEY = `{${NS_LEGACY}}storage`;
/** What XEP-0402 section 3 has clients publish with. */
const OPTIONS = { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' };

const autojoin = (value: string | undefined): string => (value === 'true' || value === '1' ? 'true' : 'false');

/** The nick and password both formats carry as children of <conference/>. */
function withDetails(out: Element, from: Element): Element {
  for (const name of ['nick', 'password']) {
    const text = from.getChildText(name);
    if (text) out.append(xml(name, {}, text));
  }
  return out;
}

/** An XEP-0048 conference as an XEP-0402 item payload. */
function toNative(legacy: Element): Element {
  return withDetails(xml('conference', { xmlns: NS_BOOKMARKS, name: legacy.attrs.name, autojoin: autojoin(legacy.attrs.autojoin) }), legacy);
}

/** An XEP-0402 item as an XEP-0048 conference. */
function toLegacy(jid: string, native: Element): Element {
  return withDetails(xml('conference', { jid, name: native.attrs.name, autojoin: autojoin(native.attrs.autojoin) }), native);
}

export const bookmarksConversionModule: XmppModule = {
  name: 'bookmarks-conversion',
  depends: ['pep', 'private'],
  storage: ['privateXml'],
  load(ctx) {
    const pep = ctx.dependency<PepApi>('pep');
    const privateXml = ctx.repository('privateXml');
    ctx.feature(`${NS_BOOKMARKS}#compat`, { host: false, account: true });
    ctx.feature('urn:xmpp:bookmarks-conversion:0', { host: false, account: true });
    /** Users whose private bookmarks are being published: what that publishes is not written back. */
    const syncing = new Set<string>();

    const privateToPep = async (username: string, storage: Element): Promise<void> => {
      syncing.add(username);
      try {
        const wanted = new Map<string, Element>();
        for (const c of storage.getChildren('conference')) if (c.attrs.jid) wanted.set(c.attrs.jid, toNative(c));
        const have = new Map((await pep.items(username, NS_BOOKMARKS)).map((i) => [i.id, i.payload]));
        for (const [jid, payload] of wanted) {
          if (have.get(jid) !== payload.toString()) await pep.publish(username, NS_BOOKMARKS, payload, { id: jid, options: OPTIONS });
        }
        const stale = [...have.keys()].filter((jid) => !wanted.has(jid));
        if (stale.length) await pep.retract(username, NS_BOOKMARKS, stale);
      } finally {
        syncing.delete(username);
      }
    };

    const pepToPrivate = async (owner: string): Promise<void> => {
      const items = await pep.items(owner, NS_BOOKMARKS);
      const stored = await privateXml.get(owner, LEGACY_KEY);
      const storage = xml('storage', { xmlns: NS_LEGACY });
      for (const item of items) storage.append(toLegacy(item.id, parseXml(item.payload)));
      if (stored !== null) for (const url of parseXml(stored).getChildren('url')) storage.append(url.clone());
      await privateXml.set(owner, LEGACY_KEY, storage.toString());
    };

    const report = (err: unknown): void => ctx.kernel.reportError('bookmarks conversion failed', err);
    ctx.hook<PrivateStoredEvent>(PRIVATE_STORED, ({ username, elements }) => {
      const storage = elements.find((e) => e.localName === 'storage' && e.getNS() === NS_LEGACY);
      if (storage) privateToPep(username, storage).catch(report);
    });
    const changed = (owner: string, node: string): void => {
      if (node === NS_BOOKMARKS && !syncing.has(owner)) pepToPrivate(owner).catch(report);
    };
    ctx.hook<PepPublishedEvent>(PEP_PUBLISHED, ({ owner, node }) => changed(owner, node));
    ctx.hook<PepRetractedEvent>(PEP_RETRACTED, ({ owner, node }) => changed(owner, node));
  },
};
