// The parts of one running node, as server.ts wires them, for the kernel's own components
// (streams, HTTP listeners, the admin API, the plugin host). Modules and plugins never see
// it: they get a ModuleContext with the narrow Kernel (extension/kernel.ts) instead.
import type { ModuleMetrics } from './extension/module-metrics.ts';
import type { ClusterManager } from './cluster/cluster-manager.ts';
import type { ServerConfig } from './config/types.ts';
import type { EventBus } from './events/event-bus.ts';
import type { Logger } from './log.ts';
import type { CoreProperties } from './properties/core-properties.ts';
import type { PropertyRegistry } from './properties/property-registry.ts';
import type { Router } from './routing/router.ts';
import type { SessionManager } from './session/session-manager.ts';
import type { Storage } from './storage/types.ts';
import type { DiscoRegistry } from './extension/disco-registry.ts';
import type { Kernel } from './extension/kernel.ts';
import type { StreamFeatureProvider } from './extension/module-context.ts';
import type { ServerStats } from './stats.ts';
import type { VerifiedPasswordCache } from './auth/verified-password-cache.ts';
import type { DependencyMonitor } from './health/dependency-monitor.ts';
import type { ServerSecrets } from './auth/server-secrets.ts';
import type { FailureThrottle } from './auth/failure-throttle.ts';
import type { AccountDeletions } from './accounts/account-deletions.ts';
import type { ResumableSessions } from './stream/sm/resumable-sessions.ts';
import type { SessionHandover } from './stream/sm/session-handover.ts';

export interface ServerContext {
  /** The facade modules and plugins see (extension/kernel.ts). */
  readonly kernel: Kernel;
  readonly domain: string;
  readonly version: string;
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly events: EventBus;
  readonly router: Router;
  readonly sessions: SessionManager;
  readonly storage: Storage;
  readonly properties: PropertyRegistry;
  /** Handles of the kernel's own properties (limits, registration, ...). */
  readonly core: CoreProperties;
  readonly disco: DiscoRegistry;
  readonly streamFeatures: Set<StreamFeatureProvider>;
  readonly stats: ServerStats;
  /** What modules and plugins publish on /metrics (ctx.metric). */
  readonly moduleMetrics: ModuleMetrics;
  /** Recently verified PLAIN passwords (see auth/verified-password-cache.ts); replaced when resized. */
  passwordCache: VerifiedPasswordCache;
  /** Keys shared by every node through the database (auth/server-secrets.ts). */
  readonly secrets: ServerSecrets;
  /** Running, degraded or paused, from pings of the dependencies (the clustering plugin adds Hazelcast). */
  readonly health: DependencyMonitor;
  /** The current cluster manager (standalone unless the clustering plugin is active). */
  cluster(): ClusterManager;
  /** Failed logins per account and per address, counted in the database for every node (auth/failure-throttle.ts). */
  readonly authThrottle: FailureThrottle;
  /** Account deletion on every node, and the handlers modules and plugins registered for it. */
  readonly accounts: AccountDeletions;
  /** This node's sessions with stream management (XEP-0198), resumable or not. */
  readonly resumable: ResumableSessions;
  /** Resumption of sessions held by another node of the cluster. */
  readonly handover: SessionHandover;
}
