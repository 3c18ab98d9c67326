// What a session of this node wants to hear (XEP-0163 4.2 and 4.3.4). Each available
// presence it sends is read for caps; the caps are resolved (from memory, the shared cache,
// or the resource itself) to the nodes it asks `+notify` for, and for each node it did not
// ask for before (all of them after initial presence) it gets the last item of that node
// from its own account and from every contact whose node it may see.
import { JID } from '../../jid/jid.ts';
import type { ClientSession } from '../../session/client-session.ts';
import type { Element } from '../../xml/element.ts';
import { hasTo } from '../roster/roster-item.ts';
import { mayAccess } from './access.ts';
import { capsOf, notifyNodes } from './caps.ts';
import { takeCapsQuery } from './caps-query-budget.ts';
import { lastItemMessage } from './notifications.ts';
import type { PepDeps } from './pep-deps.ts';

/** Key in ClientSession.data: the nodes the session was last seen to want. */
const NOTIFY = 'pep/notify';
/** Key in ClientSession.data: how many presences the session has broadcast. */
const SEQ = 'pep/presence-seq';

const NONE: ReadonlySet<string> = new Set();

/** Called for every presence a session of this node broadcasts. */
export async function onPresence(d: PepDeps, session: ClientSession, presence: Element, maxQueriesPerMinute: number): Promise<void> {
  const type = presence.attrs.type;
  if (type !== undefined && type !== 'unavailable') return;
  // Resolving caps may wait for the client's answer while its next presence is read; only
  // the newest presence may say what the session wants, or an older answer arriving late
  // would bring back interest the session has dropped since (and hide a later new start).
  const seq = ((session.data.get(SEQ) as number | undefined) ?? 0) + 1;
  session.data.set(SEQ, seq);
  if (type === 'unavailable') {
    // Available again later, it is a new start: the last items come again.
    session.data.delete(NOTIFY);
    return;
  }
  const caps = capsOf(presence);
  let features: ReadonlySet<string> | undefined;
  if (caps) {
    features = await d.caps.features(caps);
    if (!features && takeCapsQuery(session, maxQueriesPerMinute)) features = await d.caps.discover(session.jid.toString(), caps);
    else if (!features) d.log.debug('caps queries of a session over its budget; these caps are not asked about', { jid: session.jid.toString(), ver: caps.ver });
  }
  if (session.closed || session.data.get(SEQ) !== seq) return;
  // Caps not known (not asked, not answered, not verified) want nothing.
  const wanted = features ? notifyNodes(features) : new Set<string>();
  const before = (session.data.get(NOTIFY) as ReadonlySet<string> | undefined) ?? NONE;
  session.data.set(NOTIFY, wanted);
  const fresh = [...wanted].filter((n) => !before.has(n));
  if (fresh.length) await sendLastItems(d, session, fresh);
}

async function sendLastItems(d: PepDeps, session: ClientSession, nodes: string[]): Promise<void> {
  const user = session.jid.local;
  const domain = d.kernel.domain;
  const roster = await d.rosters.load(user);
  const owners = [user];
  for (const item of roster.items.values()) {
    if (!hasTo(item)) continue;
    const contact = JID.tryParse(item.jid);
    if (contact && contact.domain === domain && contact.local) owners.push(contact.local);
  }
  const found = (await d.repo.findNodes(owners, nodes)).filter((n) => n.config['pubsub#send_last_published_item'] !== 'never');
  const visible = [];
  for (const node of found) if (await mayAccess(d, node, session.jid)) visible.push(node);
  const last = await d.repo.lastItems(visible.map((n) => n.id));
  if (session.closed) return;
  const to = session.jid.toString();
  for (const node of visible) {
    const item = last.get(node.id);
    if (item) session.send(lastItemMessage(node, item, domain, to));
  }
}
