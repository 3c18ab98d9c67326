// What GET /status reports about this node: identity, state with the reason, resources,
// connections per transport and traffic. Read from counters kept elsewhere; nothing here
// is on a hot path.
import type { ClusterSummary } from '../cluster/cluster-manager.ts';
import type { DependencyMonitor, DependencyStatus, NodeState } from '../health/dependency-monitor.ts';
import type { ServerContext } from '../modules/server-context.ts';
import type { ConnectionCounters } from '../stats.ts';
import type { TransportKind } from '../transport/transport.ts';

export interface NodeStatus {
  version: string;
  node: string;
  domain: string;
  state: NodeState;
  reason: string | null;
  stateSince: string;
  dependencies: (Omit<DependencyStatus, 'checkedAt'> & { checkedAt: string | null })[];
  startedAt: string;
  uptimeSeconds: number;
  pid: number;
  cpu: { userSeconds: number; systemSeconds: number; percent: number };
  memory: { rssBytes: number; peakRssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  connections: Record<TransportKind, ConnectionCounters>;
  sessions: number;
  logins: { succeeded: number; failed: number };
  stanzas: { received: { message: number; presence: number; iq: number; total: number }; routed: number; delivered: number };
  /** Present when clustering is on. */
  cluster?: ClusterSummary;
}

/** CPU use between two /status calls, so the figure is recent rather than a lifetime average. */
export class CpuSampler {
  private lastUsage = process.cpuUsage();
  private lastAt = process.hrtime.bigint();
  private lastPercent = 0;

  percent(): number {
    const now = process.hrtime.bigint();
    const elapsedUs = Number(now - this.lastAt) / 1000;
    // Too short an interval gives noise; keep the previous figure then.
    if (elapsedUs < 200_000) return this.lastPercent;
    const usage = process.cpuUsage(this.lastUsage);
    this.lastUsage = process.cpuUsage();
    this.lastAt = now;
    this.lastPercent = Math.round(((usage.user + usage.system) / elapsedUs) * 1000) / 10;
    return this.lastPercent;
  }
}

export function nodeStatus(context: ServerContext, health: DependencyMonitor, cpu: CpuSampler): NodeStatus {
  const h = health.status;
  const stats = context.stats;
  const usage = process.cpuUsage();
  const memory = process.memoryUsage();
  const uptime = process.uptime();
  const received = stats.stanzasIn;
  const cluster = context.cluster().summary();
  const status: NodeStatus = {
    version: context.version,
    node: context.config.nodeId,
    domain: context.domain,
    state: h.state,
    reason: h.reason,
    stateSince: h.since.toISOString(),
    dependencies: h.dependencies.map((d) => ({ ...d, checkedAt: d.checkedAt?.toISOString() ?? null })),
    startedAt: new Date(Date.now() - uptime * 1000).toISOString(),
    uptimeSeconds: Math.floor(uptime),
    pid: process.pid,
    cpu: { userSeconds: usage.user / 1e6, systemSeconds: usage.system / 1e6, percent: cpu.percent() },
    memory: {
      rssBytes: memory.rss,
      // maxRSS is in kilobytes.
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
    },
    connections: {
      tcp: { ...stats.connections.tcp },
      bosh: { ...stats.connections.bosh },
      websocket: { ...stats.connections.websocket },
    },
    sessions: context.sessions.size,
    logins: { succeeded: stats.logins, failed: stats.loginFailures },
    stanzas: {
      received: { ...received, total: received.message + received.presence + received.iq },
      routed: context.router.stats.routed,
      delivered: context.router.stats.delivered,
    },
  };
  if (cluster.enabled) status.cluster = cluster;
  return status;
}
