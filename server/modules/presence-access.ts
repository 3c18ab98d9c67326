// Who may learn an account's availability. XEP-0012 (last activity) and XEP-0030 (disco of
// an account) answer only those allowed to see the account's presence: the account itself
// and contacts it has granted a subscription to (RFC 6121: subscription 'from' or 'both').
import type { JID } from '../jid/jid.ts';
import type { RosterRepository } from '../storage/types.ts';

export async function maySeePresence(rosters: RosterRepository, account: JID, requester: JID): Promise<boolean> {
  if (requester.local === account.local && requester.domain === account.domain) return true;
  const item = await rosters.get(account.local, requester.bareString());
  return item !== null && (item.subscription === 'from' || item.subscription === 'both');
}
