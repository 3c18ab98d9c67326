// Who may see a node's items (XEP-0060 4.5, access models): the owner always; for 'open'
// anyone; for 'presence' contacts the owner shares presence with (subscription from or
// both); for 'whitelist' only the owner, and those the owner gave an affiliation.
import type { JID } from '../../jid/jid.ts';
import type { PepNode } from '../../storage/types.ts';
import { StanzaError } from '../../xml/errors.ts';
import { hasFrom } from '../roster/roster-item.ts';
import { affiliationOf } from './affiliations.ts';
import { accessModelOf } from './node-config.ts';
import type { PepDeps } from './pep-deps.ts';
import { pubsubFailure } from './pubsub-errors.ts';

export function isOwner(node: PepNode, who: JID, domain: string): boolean {
  return who.domain === domain && who.local === node.owner;
}

export async function mayAccess(d: PepDeps, node: PepNode, who: JID): Promise<boolean> {
  if (isOwner(node, who, d.kernel.domain)) return true;
  const bare = who.bareString();
  const affiliation = affiliationOf(node.config, bare);
  if (affiliation === 'outcast') return false;
  switch (accessModelOf(node.config)) {
    case 'open':
      return true;
    case 'presence':
      return affiliation !== 'none' || hasFrom(await d.rosters.get(node.owner, bare));
    case 'whitelist':
      return affiliation !== 'none';
    default:
      return false;
  }
}

/** The refusal XEP-0060 6.5.9 gives for each access model. */
export function accessDenied(node: PepNode): StanzaError {
  switch (accessModelOf(node.config)) {
    case 'presence':
      return pubsubFailure('not-authorized', 'presence-subscription-required', 'Only contacts subscribed to the owner\'s presence may see this node');
    case 'whitelist':
      return pubsubFailure('not-allowed', 'closed-node', 'Only those the owner allowed may see this node');
    default:
      return new StanzaError('forbidden', 'You may not see this node');
  }
}

export async function requireAccess(d: PepDeps, node: PepNode, who: JID): Promise<void> {
  if (!(await mayAccess(d, node, who))) throw accessDenied(node);
}
