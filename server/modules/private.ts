// Private XML Storage (XEP-0049): a user keeps arbitrary XML on the server, one element
// per name and namespace (bookmarks, client preferences), readable only by the user.
import { xml, type Element } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import { parseXml } from '../xml/stream-parser.ts';
import type { IqRequest, XmppModule } from './module-context.ts';

const NS_PRIVATE = 'jabber:iq:private';

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
  load(ctx) {
    const repo = ctx.server.storage.privateXml;
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
      for (const el of items(req)) {
        const copy = el.clone();
        copy.attrs.xmlns = el.getNS();
        await repo.set(req.to.local, keyOf(el), copy.toString());
      }
    });
  },
};

function emptyCopy(el: Element): Element {
  return xml(el.localName, { xmlns: el.getNS() });
}
