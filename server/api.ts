// The kernel's public API: the one entry plugins import (`import { xml } from 'xmppd'`; the
// plugin host resolves 'xmppd' to this file). Everything else under server/ is internal and
// may change without notice; what is exported here changes with care.

// Elements, JIDs and protocol errors.
export { Element, xml, type Attrs, type Node } from './xml/element.ts';
export { JID, JidError } from './jid/jid.ts';
export {
  StanzaError, StreamError, XmppError, errorReply, stanzaError,
  type StanzaErrorCondition, type StanzaErrorType, type StreamErrorCondition,
} from './xml/errors.ts';

// Registration: what a plugin's load(ctx) receives and what it may return.
export { PluginContext, type Plugin } from './plugins/plugin-context.ts';
export type { PluginManifest, PluginKind } from './plugins/manifest.ts';
export type { PluginRoute, PluginRouteHandler, PluginRouteRequest, HttpMethod, AdminPage } from './plugins/plugin-routes.ts';
export {
  ModuleContext, type DiscoIdentity, type IqHandler, type IqRequest, type StreamFeatureProvider, type XmppModule,
} from './modules/module-context.ts';
export type { ServerContext } from './modules/server-context.ts';
export { iqEventName, DEFAULT_PRIORITY, type StanzaEvent } from './routing/stanza-event.ts';

// System properties.
export { PropertyValueError, type Property, type PropertyDefinition, type PropertyType } from './properties/types.ts';

// The boundaries a clustering plugin implements.
export type { ClusterManager, ClusterMember, ClusterSummary } from './cluster/cluster-manager.ts';
export type { RouteEntry, RoutingTable } from './routing/routing-table.ts';
export type { ClientSession } from './session/client-session.ts';
export type { Logger } from './log.ts';
