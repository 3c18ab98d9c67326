// System properties of stream management (XEP-0198) and client state indication (XEP-0352),
// defined as data so that `xmppd property` and the admin API know them without a server.
import type { PropertyRegistry } from '../../properties/property-registry.ts';
import type { Property, PropertyDefinition } from '../../properties/types.ts';

export const SM_PROPERTY_DEFINITIONS = {
  resumeTimeout: {
    name: 'xmpp.sm.resume-timeout',
    type: 'duration',
    default: 300,
    min: 1,
    max: 86400,
    description: 'Seconds a session with stream management stays resumable after its connection drops, when the client asks for no other time',
    live: true,
  } satisfies PropertyDefinition<number>,
  resumeTimeoutMax: {
    name: 'xmpp.sm.resume-timeout.max',
    type: 'duration',
    default: 900,
    min: 1,
    max: 86400,
    description: 'Longest resumption time a client may ask for in <enable max=/>; longer requests get this',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxUnacked: {
    name: 'xmpp.sm.max-unacked',
    type: 'integer',
    default: 500,
    min: 1,
    max: 100000,
    description: 'Stanzas sent to a client and not acknowledged that a session may hold; beyond it the session ends with <resource-constraint/>',
    live: true,
  } satisfies PropertyDefinition<number>,
  ackRequestEvery: {
    name: 'xmpp.sm.ack-request-every',
    type: 'integer',
    default: 5,
    min: 1,
    max: 10000,
    description: 'The server asks for an ack (<r/>) once this many stanzas are unacknowledged',
    live: true,
  } satisfies PropertyDefinition<number>,
  ackRequestDelay: {
    name: 'xmpp.sm.ack-request-delay',
    type: 'duration',
    default: 5,
    min: 1,
    max: 3600,
    description: 'Seconds after a stanza left unacknowledged at which the server asks for an ack, however few are unacknowledged',
    live: true,
  } satisfies PropertyDefinition<number>,
  clusterReplicas: {
    name: 'xmpp.sm.cluster-replicas',
    type: 'boolean',
    default: true,
    description: 'In a cluster, keep a copy of every resumable session (its state and unacknowledged stanzas) on one other node, so that its client can resume it on any node after its node died',
    live: true,
  } satisfies PropertyDefinition<boolean>,
  csiMaxHeld: {
    name: 'xmpp.csi.max-held',
    type: 'integer',
    default: 100,
    min: 1,
    max: 10000,
    description: 'Presence updates and chat states held for an inactive client (XEP-0352); one more sends them all at once',
    live: true,
  } satisfies PropertyDefinition<number>,
};

export interface SmProperties {
  resumeTimeout: Property<number>;
  resumeTimeoutMax: Property<number>;
  maxUnacked: Property<number>;
  ackRequestEvery: Property<number>;
  ackRequestDelay: Property<number>;
  clusterReplicas: Property<boolean>;
  csiMaxHeld: Property<number>;
}

export function defineSmProperties(registry: PropertyRegistry): SmProperties {
  const entries = Object.entries(SM_PROPERTY_DEFINITIONS).map(([key, definition]) => [key, registry.define<number | boolean>(definition)]);
  return Object.fromEntries(entries) as SmProperties;
}
