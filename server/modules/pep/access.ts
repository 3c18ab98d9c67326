// Who may see a node's items (XEP-0060 4.5, access models): the owner always; for 'open'
// anyone; for 'presence' contacts the owner shares presence with (subscription from or
// both); for 'roster' those contacts when the owner put them in one of the node's allowed
// roster groups (XEP-0060 4.5: the groups; the subscription too, since PEP notifications go
// only to contacts who receive the owner's presence, and a group name alone would open the
// node to someone the owner has stopped sharing presence with); for 'whitelist' only the
// owner, and those the owner gave an affiliation.
import type { JID } from '../../jid/jid.ts';
import type { PepNode } from '../../storage/types.ts';
import { StanzaError } from '../../xml/errors.ts';
import { hasFrom } from '../roster/roster-item.ts';
import { affiliationOf } from './affiliations.ts';
import { accessModelOf, rosterGroupsOf } from './node-config.ts';
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
    case 'roster': {
      if (affiliation !== 'none') return true;
      const item = await d.rosters.get(node.owner, bare);
      const allowed = rosterGroupsOf(node.config);
      return hasFrom(item) && item!.groups.some((g) => allowed.includes(g));
    }
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
    case 'roster':
      return pubsubFailure('not-authorized', 'not-in-roster-group', 'Only contacts in the roster groups the owner allowed may see this node');
    case 'whitelist':
      return pubsubFailure('not-allowed', 'closed-node', 'Only those the owner allowed may see this node');
    default:
      return new StanzaError('forbidden', 'You may not see this node');
  }
}

export async function requireAccess(d: PepDeps, node: PepNode, who: JID): Promise<void> {
  if (!(await mayAccess(d, node, who))) throw accessDenied(node);
}
