// Private XML Storage (XEP-0049): a user keeps arbitrary XML on the server, one element
// per name and namespace (bookmarks, client preferences), readable only by the user.
//
// Each element's size and the number of elements per user are limited, so that an account
// cannot fill the database. A request over a limit stores nothing of what it carries.
import type { PropertyDefinition } from '../properties/types.ts';
import { xml, type Element } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import { parseXml } from '../xml/stream-parser.ts';
import type { IqRequest, XmppModule } from '../extension/module-context.ts';

const NS_PRIVATE = 'jabber:iq:private';

/** Fired on this node after a user stored elements (the bookmarks conversion of XEP-0411 hooks it). */
export const PRIVATE_STORED = 'private/stored';
export interface PrivateStoredEvent {
  username: string;
  elements: Element[];
}

export const PRIVATE_PROPERTIES = {
  maxBytes: {
    name: 'xmpp.private.max-bytes',
    type: 'integer',
    default: 65536,
    min: 1024,
    max: 16777216,
    description: 'Largest element a user may keep in private XML storage (XEP-0049), in bytes of XML',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxItems: {
    name: 'xmpp.private.max-items',
    type: 'integer',
    default: 100,
    min: 0,
    max: 100000,
    description: 'Elements (one per name and namespace) a user may keep in private XML storage; replacing one adds none (0: no limit)',
    live: true,
  } satisfies PropertyDefinition<number>,
};

/** The XEP lets servers refuse the namespaces the protocol itself uses; we do. */
function reserved(ns: string): boolean {
  return ns.startsWith('jabber:') || ns.startsWith('http://jabber.org/') || ns === 'vcard-temp';
}

/** Storage key of one element: its namespace and local name, in Clark notation. */
function keyOf(el: Element): string {
  return `{${el.getNS() ?? ''}}${el.localName}`;
}

/** The children to get or set, checked as XEP-0049 section 2 asks. */
function items(req: IqRequest): Element[] {
  if (req.from.bareString() !== req.to.bareString()) {
    throw new StanzaError('forbidden', 'Private storage belongs to its owner only');
  }
  const children = req.payload.getChildElements();
  if (!children.length) throw new StanzaError('not-acceptable', 'Name the element to get or set');
  for (const c of children) {
    const ns = c.getNS();
    if (ns === undefined || ns === NS_PRIVATE) throw new StanzaError('not-acceptable', 'Stored elements need a namespace of their own');
    if (reserved(ns)) throw new StanzaError('not-acceptable', `The namespace ${ns} is reserved`);
  }
  return children;
}

export const privateModule: XmppModule = {
  name: 'private',
  properties: Object.values(PRIVATE_PROPERTIES),
  storage: ['privateXml'],
  load(ctx) {
    const repo = ctx.repository('privateXml');
    const maxBytes = ctx.property<number>(PRIVATE_PROPERTIES.maxBytes);
    const maxItems = ctx.property<number>(PRIVATE_PROPERTIES.maxItems);
    ctx.feature(NS_PRIVATE);

    ctx.iq('bare', 'get', NS_PRIVATE, async (req) => {
      const query = xml('query', { xmlns: NS_PRIVATE });
      for (const wanted of items(req)) {
        const stored = await repo.get(req.to.local, keyOf(wanted));
        // Nothing stored: the requested element comes back as it was asked for.
        query.append(stored === null ? emptyCopy(wanted) : parseXml(stored));
      }
      return query;
    });

    ctx.iq('bare', 'set', NS_PRIVATE, async (req) => {
      const limit = maxBytes.value;
      const toStore = items(req).map((el) => {
        // Stored with its namespace on the root, so that it parses on its own again.
        const copy = el.clone();
        copy.attrs.xmlns = el.getNS();
        const text = copy.toString();
        if (Buffer.byteLength(text, 'utf8') > limit) {
          // Not in XEP-0049; not-acceptable is what XEP-0363 uses for content over a size limit.
          throw new StanzaError('not-acceptable', `The element ${keyOf(el)} is larger than the ${limit} bytes allowed`);
        }
        return { key: keyOf(el), xml: text };
      });
      const most = maxItems.value;
      const result = await repo.store(req.to.local, toStore, most);
      if (result === 'over-limit') {
        throw new StanzaError('not-acceptable', `At most ${most} elements can be kept in private storage`);
      }
      // The account was deleted while this request was on its way.
      if (result === 'no-user') throw new StanzaError('item-not-found', 'No such account');
      ctx.kernel.fire<PrivateStoredEvent>(PRIVATE_STORED, { username: req.to.local, elements: items(req) });
    });
  },
};

function emptyCopy(el: Element): Element {
  return xml(el.localName, { xmlns: el.getNS() });
}
