// disco#items of an account (XEP-0163 6, XEP-0060 5.2): its PEP nodes that the requester may
// see, and with a node, that node's item ids (5.5). The disco module's handler, which knows
// no nodes, answers only while this module is not loaded: this one is registered above it.
import type { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { mayAccess, requireAccess } from './access.ts';
import { NS_DISCO_ITEMS } from './namespaces.ts';
import type { PepDeps } from './pep-deps.ts';
import { nodeNotFound } from './pubsub-errors.ts';

export async function discoItems(d: PepDeps, account: JID, requester: JID, nodeName: string | undefined): Promise<Element> {
  const owner = account.local;
  const query = xml('query', { xmlns: NS_DISCO_ITEMS, node: nodeName });
  if (nodeName !== undefined) {
    const node = await d.repo.getNode(owner, nodeName);
    if (!node) throw nodeNotFound();
    await requireAccess(d, node, requester);
    for (const item of await d.repo.items(node.id)) query.c('item', { jid: account.bareString(), name: item.id });
    return query;
  }
  const self = requester.bareString() === account.bareString();
  // Anyone gets the nodes it may see (XEP-0030 section 8): for a stranger to an account
  // without open nodes, or to no account at all, an empty list rather than an error.
  for (const node of await d.repo.listNodes(owner)) {
    if (self || (await mayAccess(d, node, requester))) query.c('item', { jid: account.bareString(), node: node.node });
  }
  return query;
}
