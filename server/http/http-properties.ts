// System properties of the client HTTP listeners (BOSH, WebSocket, CORS, trusted proxies,
// who may read /status and /metrics).
// Defined once per node and shared by the http and https listeners (client-http-shared.ts);
// all apply live (BOSH limits to sessions created after a change).
import type { PropertyRegistry } from '../properties/property-registry.ts';
import type { Property, PropertyDefinition } from '../properties/types.ts';

export interface HttpProperties {
  boshMaxWait: Property<number>;
  boshMaxHold: Property<number>;
  boshInactivity: Property<number>;
  boshPolling: Property<number>;
  boshMaxPause: Property<number>;
  corsOrigins: Property<string>;
  trustedProxies: Property<string>;
  websocketPingInterval: Property<number>;
  statusAllowed: Property<string>;
  publicUrl: Property<string>;
}

/** Loopback and the private networks (RFC 1918, RFC 4193): where monitoring usually runs. */
export const PRIVATE_NETWORKS = '127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7';

/** The definitions, also used by `xmppd property` to know these names without a listener. */
export const HTTP_PROPERTY_DEFINITIONS = {
  boshMaxWait: {
    name: 'xmpp.bosh.max-wait',
    type: 'duration',
    default: 60,
    min: 1,
    max: 300,
    description: 'Longest a BOSH request is held waiting for data, in seconds (a client asking for more gets this)',
    live: true,
  } satisfies PropertyDefinition<number>,
  boshMaxHold: {
    name: 'xmpp.bosh.max-hold',
    type: 'integer',
    default: 2,
    min: 1,
    max: 10,
    description: 'Most BOSH requests held at once per session (a client asking for more gets this)',
    live: true,
  } satisfies PropertyDefinition<number>,
  boshInactivity: {
    name: 'xmpp.bosh.inactivity',
    type: 'duration',
    default: 30,
    min: 5,
    max: 3600,
    description: 'Seconds a BOSH session may have no request pending before it ends as if the client disconnected',
    live: true,
  } satisfies PropertyDefinition<number>,
  boshPolling: {
    name: 'xmpp.bosh.polling',
    type: 'duration',
    default: 2,
    min: 0,
    max: 60,
    description: 'Shortest interval between two empty BOSH requests, in seconds; faster clients are disconnected (0: no limit)',
    live: true,
  } satisfies PropertyDefinition<number>,
  boshMaxPause: {
    name: 'xmpp.bosh.max-pause',
    type: 'duration',
    default: 120,
    min: 0,
    max: 3600,
    description: 'Longest pause a BOSH client may request (XEP-0124 section 10), in seconds (0: pausing not offered)',
    live: true,
  } satisfies PropertyDefinition<number>,
  corsOrigins: {
    name: 'xmpp.http.cors.origins',
    type: 'origin-list',
    default: '*',
    description: 'Web origins allowed to use BOSH and WebSocket from a browser: "*" for any, or a comma-separated list such as https://chat.example.com',
    live: true,
  } satisfies PropertyDefinition<string>,
  trustedProxies: {
    name: 'xmpp.http.trusted-proxies',
    type: 'cidr-list',
    default: '',
    description: 'Load balancers and proxies whose X-Forwarded-For header names the client of a BOSH or WebSocket connection: comma-separated IP addresses or CIDR ranges such as 10.0.0.0/8 (empty: trust nobody, use the socket address)',
    live: true,
  } satisfies PropertyDefinition<string>,
  websocketPingInterval: {
    name: 'xmpp.websocket.ping-interval',
    type: 'duration',
    default: 30,
    min: 0,
    max: 3600,
    description: 'Seconds between WebSocket pings; a peer that has not answered the previous ping by then is disconnected (0: no pings)',
    live: true,
  } satisfies PropertyDefinition<number>,
  statusAllowed: {
    name: 'xmpp.http.status.allowed',
    type: 'string',
    default: PRIVATE_NETWORKS,
    description: 'Clients that may read /status and /metrics on the client HTTP listeners: comma-separated IP addresses or CIDR ranges, the client address as for xmpp.http.trusted-proxies (empty: nobody; administrators read both on the admin listener). /healthz and /readyz are open to all',
    live: true,
  } satisfies PropertyDefinition<string>,
  publicUrl: {
    name: 'xmpp.http.public-url',
    type: 'string',
    default: '',
    description: 'The address clients reach the web listeners at, such as https://chat.example.com or https://example.com/xmpp behind a proxy: /.well-known/host-meta names BOSH and WebSocket below it (XEP-0156). Empty: taken from each request\'s Host and scheme (X-Forwarded-Proto only from xmpp.http.trusted-proxies)',
    live: true,
  } satisfies PropertyDefinition<string>,
};

export function defineHttpProperties(registry: PropertyRegistry): HttpProperties {
  const d = HTTP_PROPERTY_DEFINITIONS;
  return {
    boshMaxWait: registry.define<number>(d.boshMaxWait),
    boshMaxHold: registry.define<number>(d.boshMaxHold),
    boshInactivity: registry.define<number>(d.boshInactivity),
    boshPolling: registry.define<number>(d.boshPolling),
    boshMaxPause: registry.define<number>(d.boshMaxPause),
    corsOrigins: registry.define<string>(d.corsOrigins),
    trustedProxies: registry.define<string>(d.trustedProxies),
    websocketPingInterval: registry.define<number>(d.websocketPingInterval),
    statusAllowed: registry.define<string>(d.statusAllowed),
    publicUrl: registry.define<string>(d.publicUrl),
  };
}
