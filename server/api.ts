// The kernel's public API: the one entry plugins import (`import { xml } from 'xmppd'`; the
// plugin host resolves 'xmppd' to this file). Everything else under server/ is internal and
// may change without notice; what is exported here changes with care.

// Elements, JIDs and protocol errors. parseXml reads one element as a peer sends it (RFC
// 6120 restricted XML: a stanza serialized by another node); parseXmlDocument reads a file
// people write (comments allowed), such as a configuration file.
export { Element, xml, type Attrs, type Node } from './xml/element.ts';
export { parseXml } from './xml/stream-parser.ts';
export { parseXmlDocument } from './xml/parse-document.ts';
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
  ModuleContext, type DiscoIdentity, type DiscoView, type IqHandler, type IqRequest, type ModuleRepositoryName,
  type StreamFeatureProvider, type XmppModule,
} from './extension/module-context.ts';
export type { Kernel } from './extension/kernel.ts';
export type { EndSessionsRequest } from './session/end-sessions.ts';
export { iqEventName, DEFAULT_PRIORITY, type StanzaEvent } from './routing/stanza-event.ts';

// System properties.
export { PropertyValueError, type Property, type PropertyDefinition, type PropertyType } from './properties/types.ts';

// Health: what PluginContext.healthCheck() takes.
export type { Dependency, DependencyStatus, HealthStatus, NodeState } from './health/dependency-monitor.ts';

// The installation root (the folder holding bin/ and conf/), against which relative paths in
// the configuration are resolved; a plugin resolves its own relative settings the same way.
export { PROJECT_ROOT as INSTALL_ROOT } from './config/load-config.ts';

// The boundaries a clustering plugin implements (installed with PluginContext.installCluster),
// the standalone table (a clustered table may keep its local replica in one), and the events
// it fires for the modules.
export { REMOTE_EVENT_PREFIX, type ClusterManager, type ClusterMember, type ClusterSummary, type HazelcastMemberView, type NodeConsistency, type RouteDifferences } from './cluster/cluster-manager.ts';
export { LocalRoutingTable, type RouteConnection, type RouteEntry, type RoutingTable } from './routing/routing-table.ts';
export {
  CLUSTER_JOINED, CLUSTER_LEAVING, MEMBERS_CHANGED, SESSION_LOST, type ClusterJoinedEvent, type ClusterLeavingEvent, type MembersChangedEvent, type SessionLostEvent,
} from './cluster/cluster-events.ts';
export { ownerOf, ranked } from './cluster/rendezvous.ts';
// A stanza serialized once for many recipients (ClusterManager.sendEachToNode carries it).
export { addressedCopy, addressedTemplate, type AddressedTemplate } from './xml/addressed-copies.ts';
export type { ClientSession } from './session/client-session.ts';
export type { Logger } from './log.ts';
