// What a client stream needs of the node, and nothing more: the stream negotiates, binds
// and hands stanzas to the router; it cannot register hooks, swap routing tables or reach
// storage beyond the account lookup SASL makes. server.ts passes its ServerContext, which
// has all of this; tests can pass less.
import type { VerifiedPasswordCache } from '../auth/verified-password-cache.ts';
import type { FailureThrottle } from '../auth/failure-throttle.ts';
import type { ServerSecrets } from '../auth/server-secrets.ts';
import type { ServerConfig } from '../config/types.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { StreamFeatureProvider } from '../extension/module-context.ts';
import type { DependencyMonitor } from '../health/dependency-monitor.ts';
import type { Logger } from '../log.ts';
import type { CoreProperties } from '../properties/core-properties.ts';
import type { Router } from '../routing/router.ts';
import type { SessionManager } from '../session/session-manager.ts';
import type { ServerStats } from '../stats.ts';
import type { Storage } from '../storage/types.ts';
import type { ResumableSessions } from './sm/resumable-sessions.ts';
import type { SessionHandover } from './sm/session-handover.ts';

/** What SASL needs: the account lookup, the keys and caches behind it, and its limits. */
export interface SaslDeps {
  readonly domain: string;
  readonly config: Pick<ServerConfig, 'allowPlaintextAuth'>;
  /** The kernel's limits, read when used (they change live). */
  readonly core: CoreProperties;
  readonly stats: ServerStats;
  readonly storage: Pick<Storage, 'users'>;
  /** Replaced when resized, so read it each time. */
  readonly passwordCache: VerifiedPasswordCache;
  readonly secrets: ServerSecrets;
  readonly authThrottle: FailureThrottle;
}

export interface StreamDeps extends SaslDeps {
  readonly log: Logger;
  readonly config: Pick<ServerConfig, 'allowPlaintextAuth' | 'c2s'>;
  /** Running, degraded or paused: a paused node refuses logins, saying why. */
  readonly health: Pick<DependencyMonitor, 'acceptingLogins' | 'status'>;
  /** What modules add to <stream:features/>. */
  readonly streamFeatures: ReadonlySet<StreamFeatureProvider>;
  readonly router: Pick<Router, 'route'>;
  readonly sessions: Pick<SessionManager, 'admits' | 'bind' | 'unbind'>;
  /** Sessions with stream management: enabling, detaching, resuming, ending. */
  readonly resumable: ResumableSessions;
  /** Resumption of a session another node of the cluster holds. */
  readonly handover: Pick<SessionHandover, 'takeOver'>;
  /** Fires stream/preauth-iq, the one event a stream raises (in-band registration). */
  readonly events: Pick<EventBus, 'fire'>;
}
