// What the PEP module offers the modules that depend on it: the conversions between PEP and
// the older stores (vCard avatars, private XML bookmarks) publish and retract through the
// same path as a client, so the owner's resources and contacts hear of it alike.
import { JID } from '../../jid/jid.ts';
import type { PepItem } from '../../storage/types.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { retractItems } from './items.ts';
import type { PepDeps } from './pep-deps.ts';
import { publishItem } from './publish.ts';

export interface PepApi {
  /** Publishes for the owner, as the owner's bare JID; refused as a client's request would be. */
  publish(owner: string, node: string, payload: Element, opts?: { id?: string; options?: Record<string, string> }): Promise<string>;
  /** Retracts items that exist, notifying as the node is configured to. */
  retract(owner: string, node: string, ids: readonly string[]): Promise<void>;
  /** The node's items, oldest first; none if there is no node. */
  items(owner: string, node: string, ids?: readonly string[]): Promise<PepItem[]>;
}

export function pepApi(d: PepDeps): PepApi {
  return {
    publish(owner, node, payload, opts = {}) {
      const copy = payload.clone();
      copy.attrs.xmlns = payload.getNS();
      const text = copy.toString();
      const max = d.limits().maxPayloadBytes;
      if (Buffer.byteLength(text, 'utf8') > max) return Promise.reject(new StanzaError('not-acceptable', `An item's payload may take at most ${max} bytes`));
      const options = opts.options ? new Map(Object.entries(opts.options)) : null;
      const publisher = JID.fromPrepared(owner, d.kernel.domain).toString();
      return publishItem(d, { owner, publisher, node, id: opts.id, payload: copy, text, options });
    },
    async retract(owner, name, ids) {
      const node = await d.repo.getNode(owner, name);
      if (node) await retractItems(d, node, ids, true);
    },
    async items(owner, name, ids) {
      const node = await d.repo.getNode(owner, name);
      if (!node) return [];
      return ids ? d.repo.items(node.id, { ids }) : d.repo.items(node.id);
    },
  };
}
