// disco#info of one PEP node (XEP-0060 5.3 and 5.4): the node's identity, and its metadata
// as a pubsub#meta-data form, for those its access model lets see it; an unknown node is
// item-not-found. disco#info of the account itself (no node) stays the disco module's.
import type { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { requireAccess } from './access.ts';
import { renderForm } from './data-form.ts';
import { NS_DISCO_INFO, NS_PUBSUB } from './namespaces.ts';
import { DEFAULT_CONFIG, accessModelOf } from './node-config.ts';
import type { PepDeps } from './pep-deps.ts';
import { nodeNotFound } from './pubsub-errors.ts';

const NS_META_DATA = 'http://jabber.org/protocol/pubsub#meta-data';

export async function nodeInfo(d: PepDeps, account: JID, requester: JID, nodeName: string): Promise<Element> {
  const node = await d.repo.getNode(account.local, nodeName);
  if (!node) throw nodeNotFound();
  await requireAccess(d, node, requester);
  const config = { ...DEFAULT_CONFIG, ...node.config };
  const meta = renderForm('result', NS_META_DATA, [
    { var: 'pubsub#title', type: 'text-single', value: config['pubsub#title']! },
    { var: 'pubsub#access_model', type: 'list-single', value: accessModelOf(config) },
    { var: 'pubsub#owner', type: 'jid-multi', value: account.bareString() },
    { var: 'pubsub#max_items', type: 'text-single', value: config['pubsub#max_items']! },
    { var: 'pubsub#persist_items', type: 'boolean', value: config['pubsub#persist_items'] === 'true' ? '1' : '0' },
    { var: 'pubsub#creation_date', type: 'text-single', value: node.createdAt.toISOString() },
  ]);
  return xml('query', { xmlns: NS_DISCO_INFO, node: node.node },
    xml('identity', { category: 'pubsub', type: 'leaf' }),
    xml('feature', { var: NS_PUBSUB }),
    meta);
}
