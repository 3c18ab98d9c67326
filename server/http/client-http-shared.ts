// What the client HTTP listeners of one node (plain and TLS) share, created once by
// server.ts: the system properties (a name is defined once), the metrics registry (the
// router has a single latency observer, and a metric must not be exported twice; the admin
// listener serves it too), the client address rule with its trusted proxies, who may read
// /status and /metrics, and the routes plugins serve to clients. Each listener keeps its
// own BOSH endpoint; the totals here add them up, so /metrics tells the same on either port.
import type http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import type { ServerContext } from '../server-context.ts';
import type { PluginRouteTable } from '../plugins/plugin-routes.ts';
import type { BoshEndpoint } from './bosh/bosh-endpoint.ts';
import type { Property } from '../properties/types.ts';
import { AddressRanges, clientAddress } from './client-address.ts';
import { defineHttpProperties, type HttpProperties } from './http-properties.ts';
import { createMetricsRegistry } from './metrics.ts';

export interface ClientHttpShared {
  readonly properties: HttpProperties;
  readonly metrics: Registry;
  /** Routes plugins serve on the client listeners at /plugins/<name>/... */
  readonly pluginRoutes: PluginRouteTable;
  /** The client address of a request: the socket's, or a trusted proxy's X-Forwarded-For. */
  remoteAddress(req: http.IncomingMessage): string;
  /** Whether a socket address is one of xmpp.http.trusted-proxies. */
  trustsProxy(address: string): boolean;
  /** Whether the client of a request may read /status and /metrics (xmpp.http.status.allowed). */
  statusAllowed(req: http.IncomingMessage): boolean;
  /** Counts a listener's BOSH sessions in the totals; returns the function that stops it. */
  addBoshEndpoint(bosh: BoshEndpoint): () => void;
  /** BOSH sessions open on every client listener of this node. */
  boshSessions(): number;
  close(): void;
}

export interface ClientHttpSharedOptions {
  context: ServerContext;
  pluginRoutes: PluginRouteTable;
  log: Logger;
}

export function createClientHttpShared({ context, pluginRoutes, log }: ClientHttpSharedOptions): ClientHttpShared {
  const properties = defineHttpProperties(context.properties);
  const boshEndpoints = new Set<BoshEndpoint>();
  const boshSessions = (): number => {
    let n = 0;
    for (const b of boshEndpoints) n += b.size;
    return n;
  };

  const trusted = watchRanges(properties.trustedProxies, log);
  const statusClients = watchRanges(properties.statusAllowed, log);
  const remoteAddress = (req: http.IncomingMessage): string =>
    clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted.current);

  return {
    properties,
    metrics: createMetricsRegistry({ context, health: context.health, boshSessions }),
    pluginRoutes,
    trustsProxy: (address) => trusted.current.includes(address),
    remoteAddress,
    statusAllowed: (req) => statusClients.current.includes(remoteAddress(req)),
    addBoshEndpoint(bosh) {
      boshEndpoints.add(bosh);
      return () => boshEndpoints.delete(bosh);
    },
    boshSessions,
    close() {
      trusted.stop();
      statusClients.stop();
    },
  };
}

/**
 * A property listing addresses and ranges, parsed once per change rather than per request.
 * A wrong entry is left out with a warning rather than voiding the whole list: the others
 * still apply.
 */
function watchRanges(property: Property<string>, log: Logger): { readonly current: AddressRanges; stop(): void } {
  const read = (text: string): AddressRanges => {
    const { ranges, invalid } = AddressRanges.parse(text);
    for (const entry of invalid) {
      log.warn(`ignoring an entry of ${property.definition.name}: not an IP address or CIDR range`, { entry });
    }
    return ranges;
  };
  let current = read(property.value);
  const stop = property.onChange((text) => {
    current = read(text);
  });
  return {
    get current() {
      return current;
    },
    stop,
  };
}
