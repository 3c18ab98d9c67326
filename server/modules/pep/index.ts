// Personal Eventing Protocol (XEP-0163): every account is a pubsub service (XEP-0060, the
// subset PEP needs) at its bare JID. Nodes are created by publishing, items are kept in SQL,
// and notifications go to the resources that ask for them in their entity capabilities
// (XEP-0115), on whichever node of the cluster they are connected.
import type { XmppModule } from '../../extension/module-context.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { RosterApi } from '../roster/index.ts';
import { CapsResolver } from './caps.ts';
import { nodeInfo } from './disco-info.ts';
import { discoItems } from './disco-items.ts';
import { onPresence } from './interest.ts';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PUBSUB, NS_PUBSUB_OWNER } from './namespaces.ts';
import { pepApi, type PepApi } from './pep-api.ts';
import type { PepDeps } from './pep-deps.ts';
import { ownerGet, ownerSet, pubsubGet, pubsubSet } from './pubsub-iq.ts';

export const PEP_PROPERTIES = {
  maxItems: {
    name: 'xmpp.pep.max-items',
    type: 'integer',
    default: 256,
    min: 1,
    max: 100000,
    description: 'Most items one PEP node keeps, whatever its pubsub#max_items says; what max_items \'max\' stands for',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxPayloadBytes: {
    name: 'xmpp.pep.max-payload-bytes',
    type: 'integer',
    default: 262144,
    min: 1024,
    max: 16777216,
    description: 'Largest payload of one PEP item, in bytes of XML; larger ones are refused with <not-acceptable/> and <payload-too-big/> (avatar data is the usual bulk)',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxNodes: {
    name: 'xmpp.pep.max-nodes',
    type: 'integer',
    default: 100,
    min: 0,
    max: 100000,
    description: 'PEP nodes one account may have; creating more is refused with <not-allowed/> and <max-nodes-exceeded/> (0: no limit)',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxAffiliations: {
    name: 'xmpp.pep.max-affiliations',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100000,
    description: 'Affiliations (member, publisher, outcast) one PEP node may hold; more are refused with <resource-constraint/>',
    live: true,
  } satisfies PropertyDefinition<number>,
  capsCacheSize: {
    name: 'xmpp.pep.caps-cache-size',
    type: 'integer',
    default: 10000,
    min: 10,
    max: 1000000,
    description: 'Entity capabilities (XEP-0115 verification strings) each node keeps in memory; the rest are read from the database when needed',
    live: true,
  } satisfies PropertyDefinition<number>,
  capsQueriesPerMinute: {
    name: 'xmpp.pep.caps-queries-per-minute',
    type: 'integer',
    default: 20,
    min: 0,
    max: 1000,
    description: 'Caps queries (disco#info for a verification string nobody knows yet) one session may make the server send it in any minute; a string announced beyond it is not asked about and gets no notifications until announced again later',
    live: true,
  } satisfies PropertyDefinition<number>,
};

/** The XEP-0060 features of the account's service, as XEP-0163 section 6 lists them for PEP. */
const PUBSUB_FEATURES = [
  'access-open', 'access-presence', 'access-roster', 'access-whitelist', 'auto-create', 'auto-subscribe', 'config-node', 'create-nodes',
  'delete-items', 'delete-nodes', 'filtered-notifications', 'item-ids', 'last-published', 'manage-affiliations',
  'modify-affiliations', 'persistent-items', 'presence-notifications', 'publish', 'publish-options', 'purge-nodes', 'retract-items',
  'retrieve-affiliations', 'retrieve-default', 'retrieve-items',
];

export const pepModule: XmppModule = {
  name: 'pep',
  properties: Object.values(PEP_PROPERTIES),
  depends: ['roster'],
  storage: ['pep', 'caps'],
  load(ctx): PepApi {
    const maxItems = ctx.property<number>(PEP_PROPERTIES.maxItems);
    const maxPayloadBytes = ctx.property<number>(PEP_PROPERTIES.maxPayloadBytes);
    const maxNodes = ctx.property<number>(PEP_PROPERTIES.maxNodes);
    const maxAffiliations = ctx.property<number>(PEP_PROPERTIES.maxAffiliations);
    const capsCacheSize = ctx.property<number>(PEP_PROPERTIES.capsCacheSize);
    const capsQueries = ctx.property<number>(PEP_PROPERTIES.capsQueriesPerMinute);
    const repo = ctx.repository('pep');
    const caps = new CapsResolver(ctx.repository('caps'), ctx.kernel, ctx.log, () => capsCacheSize.value);
    ctx.onUnload(() => caps.clear());
    const d: PepDeps = {
      kernel: ctx.kernel,
      repo,
      rosters: ctx.dependency<RosterApi>('roster').store,
      caps,
      limits: () => ({ maxItems: maxItems.value, maxPayloadBytes: maxPayloadBytes.value, maxNodes: maxNodes.value, maxAffiliations: maxAffiliations.value }),
      log: ctx.log,
    };

    ctx.identity({ category: 'pubsub', type: 'pep' }, { account: true });
    ctx.feature(NS_PUBSUB, { host: false, account: true });
    for (const f of PUBSUB_FEATURES) ctx.feature(`${NS_PUBSUB}#${f}`, { host: false, account: true });

    ctx.iq('bare', 'set', NS_PUBSUB, (req) => pubsubSet(d, req));
    ctx.iq('bare', 'get', NS_PUBSUB, (req) => pubsubGet(d, req));
    ctx.iq('bare', 'set', NS_PUBSUB_OWNER, (req) => ownerSet(d, req));
    ctx.iq('bare', 'get', NS_PUBSUB_OWNER, (req) => ownerGet(d, req));
    ctx.iq('bare', 'get', NS_DISCO_ITEMS, (req) => discoItems(d, req.to, req.from, req.payload.attrs.node), 10);
    // A node's info is PEP's; the account's own (no node) the disco module's.
    ctx.iq('bare', 'get', NS_DISCO_INFO, (req) => nodeInfo(d, req.to, req.from, req.payload.attrs.node!), 10, (p) => p.attrs.node !== undefined);

    // Seen before the presence module takes it; the presence goes on to it unchanged.
    ctx.hook<StanzaEvent>('presence/broadcast', (ev) => {
      const session = ev.origin;
      if (session) {
        onPresence(d, session, ev.stanza, capsQueries.value).catch((err) => ctx.kernel.reportError('PEP interest of a presence failed', err));
      }
      return false;
    }, 10);

    ctx.onAccountDeleted((username) => repo.deleteOwner(username));
    return pepApi(d);
  },
};
