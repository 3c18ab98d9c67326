// vcard-temp (XEP-0054): each account stores one vCard, which anyone may read (the XEP
// calls it world-readable) and only its owner may change.
//
// A missing vCard is answered with item-not-found, what the XEP recommends for one's own
// and allows for another's; it is also the answer for an account that does not exist, so
// that vCard queries cannot be used to find out which accounts exist.
import type { PropertyDefinition } from '../properties/types.ts';
import type { Element } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import { parseXml } from '../xml/stream-parser.ts';
import type { XmppModule } from '../extension/module-context.ts';

const NS_VCARD = 'vcard-temp';

/** Fired on this node after a user stored a vCard (the avatar conversion of XEP-0398 hooks it). */
export const VCARD_STORED = 'vcard/stored';
export interface VcardStoredEvent {
  username: string;
  vcard: Element;
}

export const VCARD_PROPERTIES = {
  maxBytes: {
    name: 'xmpp.vcard.max-bytes',
    type: 'integer',
    default: 65536,
    min: 1024,
    max: 16777216,
    description: 'Largest vCard (XEP-0054) a user may store, in bytes of XML; avatars are the usual bulk',
    live: true,
  } satisfies PropertyDefinition<number>,
};

export const vcardModule: XmppModule = {
  name: 'vcard',
  properties: Object.values(VCARD_PROPERTIES),
  storage: ['vcards'],
  load(ctx) {
    const vcards = ctx.repository('vcards');
    const maxBytes = ctx.property<number>(VCARD_PROPERTIES.maxBytes);
    ctx.feature(NS_VCARD, { host: true, account: true });

    ctx.iq('bare', 'get', NS_VCARD, async (req) => {
      const stored = await vcards.get(req.to.local);
      if (stored === null) throw new StanzaError('item-not-found', 'No vCard');
      return parseXml(stored);
    });

    ctx.iq('bare', 'set', NS_VCARD, async (req) => {
      if (req.from.bareString() !== req.to.bareString()) {
        throw new StanzaError('forbidden', 'You can only change your own vCard');
      }
      // Stored with its namespace on the root, so that it parses on its own again.
      const vcard = req.payload.clone();
      vcard.attrs.xmlns = NS_VCARD;
      const text = vcard.toString();
      const limit = maxBytes.value;
      if (Buffer.byteLength(text, 'utf8') > limit) {
        // Not in XEP-0054; not-acceptable is what XEP-0363 uses for content over a size limit.
        throw new StanzaError('not-acceptable', `The vCard is larger than the ${limit} bytes allowed`);
      }
      await vcards.set(req.to.local, text);
      ctx.kernel.fire<VcardStoredEvent>(VCARD_STORED, { username: req.to.local, vcard });
    });
  },
};
