// What every module and plugin context is lent, taken from the node's parts. One function, so
// that the built-in modules and the plugins see exactly the same kernel.
import type { ModuleServices } from './extension/module-context.ts';
import type { ServerContext } from './server-context.ts';

/** Everything but apiOf, which is the loader's (built-in modules) or the plugin host's. */
export function moduleServicesOf(server: ServerContext): Omit<ModuleServices, 'apiOf'> {
  return {
    kernel: server.kernel,
    accountDeletions: server.accounts,
    events: server.events,
    disco: server.disco,
    streamFeatures: server.streamFeatures,
    metrics: server.moduleMetrics,
    properties: server.properties,
    storage: server.storage,
    log: server.log,
  };
}
