// What the client HTTP listeners of one node (plain and TLS) share, created once by
// server.ts: the system properties (a name is defined once), the metrics registry (the
// router has a single latency observer, and a metric must not be exported twice), the
// client address rule with its trusted proxies, and the routes plugins serve to clients.
// Each listener keeps its own BOSH endpoint; the totals here add them up, so /metrics
// tells the same on either port.
import type http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import type { ServerContext } from '../server-context.ts';
import type { PluginRouteTable } from '../plugins/plugin-routes.ts';
import type { BoshEndpoint } from './bosh/bosh-endpoint.ts';
import { TrustedProxies, clientAddress } from './client-address.ts';
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

  // Parsed once per change, not per connection. A wrong entry is left out with a warning
  // rather than voiding the whole list: the other proxies stay trusted.
  const readTrusted = (text: string): TrustedProxies => {
    const { proxies, invalid } = TrustedProxies.parse(text);
    for (const entry of invalid) {
      log.warn('ignoring an entry of xmpp.http.trusted-proxies: not an IP address or CIDR range', { entry });
    }
    return proxies;
  };
  let trusted = readTrusted(properties.trustedProxies.value);
  const stopWatching = properties.trustedProxies.onChange((text) => {
    trusted = readTrusted(text);
  });

  return {
    properties,
    metrics: createMetricsRegistry({ context, health: context.health, boshSessions }),
    pluginRoutes,
    remoteAddress: (req) => clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted),
    trustsProxy: (address) => trusted.trusts(address),
    addBoshEndpoint(bosh) {
      boshEndpoints.add(bosh);
      return () => boshEndpoints.delete(bosh);
    },
    boshSessions,
    close: stopWatching,
  };
}
