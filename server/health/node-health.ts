// The health monitor of a node as the server wires it: the database is a critical
// dependency (without it logins cannot be checked, so the node pauses); the clustering
// plugin adds Hazelcast through ServerContext.health when it starts.
import type { Logger } from '../log.ts';
import type { PropertyRegistry } from '../properties/property-registry.ts';
import type { PropertyDefinition } from '../properties/types.ts';
import type { Storage } from '../storage/types.ts';
import { DependencyMonitor } from './dependency-monitor.ts';

/** A ping that has not answered by then counts as a failure. */
const CHECK_TIMEOUT_MS = 5_000;

/** As data, so that `xmppd property` knows them too (see known-properties.ts). */
export const HEALTH_PROPERTY_DEFINITIONS = {
  checkInterval: {
    name: 'xmpp.health.check-interval',
    type: 'duration',
    default: 2,
    min: 1,
    max: 300,
    description: 'Seconds between checks of the services this node depends on (the database pauses logins while down)',
    live: true,
  } satisfies PropertyDefinition<number>,
};

export function createNodeHealth(properties: PropertyRegistry, storage: Storage, log: Logger): DependencyMonitor {
  const interval = properties.define<number>(HEALTH_PROPERTY_DEFINITIONS.checkInterval);
  const monitor = new DependencyMonitor(log, { intervalMs: () => interval.value * 1000, timeoutMs: CHECK_TIMEOUT_MS });
  monitor.add({ name: 'Database', critical: true, check: () => storage.ping() });
  return monitor;
}
