// What GET /status (client listeners) and GET /api/status (admin listener) report about this
// node: identity, state with the reason, resources, connections per transport and traffic.
// Read from counters kept elsewhere; nothing here is on a hot path.
import type { ClusterSummary } from '../cluster/cluster-manager.ts';
import { versionSkew } from '../cluster/version-skew.ts';
import type { DependencyMonitor, DependencyStatus, NodeState } from '../health/dependency-monitor.ts';
import type { ServerContext } from '../server-context.ts';
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
  /** Present when clustering is on; `nodes` is Kernel.clusterNodes(), versionSkew says when its nodes run different versions. */
  cluster?: ClusterSummary & { nodes: readonly string[]; versionSkew: string | null };
}

const counters = {
  type: 'object',
  required: ['total', 'current', 'peak'],
  properties: { total: { type: 'integer' }, current: { type: 'integer' }, peak: { type: 'integer' } },
} as const;

/** JSON schema of NodeStatus, for the routes that answer with it (client /status, admin /api/status). */
export const nodeStatusSchema = {
  type: 'object',
  required: ['version', 'node', 'domain', 'state', 'reason', 'startedAt', 'pid', 'connections'],
  properties: {
    version: { type: 'string' },
    node: { type: 'string' },
    domain: { type: 'string' },
    state: { type: 'string', enum: ['running', 'degraded', 'paused'] },
    reason: { type: ['string', 'null'] },
    stateSince: { type: 'string' },
    dependencies: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          critical: { type: 'boolean' },
          available: { type: 'boolean' },
          checkedAt: { type: ['string', 'null'] },
        },
      },
    },
    startedAt: { type: 'string' },
    uptimeSeconds: { type: 'integer' },
    pid: { type: 'integer' },
    cpu: {
      type: 'object',
      properties: { userSeconds: { type: 'number' }, systemSeconds: { type: 'number' }, percent: { type: 'number' } },
    },
    memory: {
      type: 'object',
      properties: {
        rssBytes: { type: 'integer' },
        peakRssBytes: { type: 'integer' },
        heapUsedBytes: { type: 'integer' },
        heapTotalBytes: { type: 'integer' },
      },
    },
    connections: {
      type: 'object',
      properties: { tcp: counters, bosh: counters, websocket: counters },
    },
    sessions: { type: 'integer' },
    logins: { type: 'object', properties: { succeeded: { type: 'integer' }, failed: { type: 'integer' } } },
    stanzas: {
      type: 'object',
      properties: {
        received: {
          type: 'object',
          properties: {
            message: { type: 'integer' }, presence: { type: 'integer' }, iq: { type: 'integer' }, total: { type: 'integer' },
          },
        },
        routed: { type: 'integer' },
        delivered: { type: 'integer' },
      },
    },
    cluster: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean' },
        state: { type: 'string' },
        reason: { type: ['string', 'null'] },
        seniorNodeId: { type: ['string', 'null'] },
        members: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              nodeId: { type: 'string' }, address: { type: 'string' }, joinedAt: { type: 'string', format: 'date-time' },
              version: { type: 'string' }, pluginVersion: { type: 'string' },
            },
          },
        },
        hazelcast: {
          type: ['object', 'null'],
          properties: { cluster: { type: 'string' }, addresses: { type: 'array', items: { type: 'string' } } },
        },
        hazelcastMembers: {
          type: ['array', 'null'],
          items: {
            type: 'object',
            properties: { address: { type: 'string' }, uuid: { type: 'string' }, version: { type: ['string', 'null'] }, lite: { type: 'boolean' } },
          },
        },
        versionSkew: { type: ['string', 'null'] },
        nodes: { type: 'array', items: { type: 'string' } },
        linkFrames: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
  },
} as const;

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
  if (cluster.enabled) status.cluster = { ...cluster, nodes: context.kernel.clusterNodes(), versionSkew: versionSkew(cluster.members) };
  return status;
}
