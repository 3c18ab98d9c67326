// GET /status (JSON for people and dashboards), /healthz (the process answers) and /readyz
// (it takes new clients: false while paused) for load balancers and orchestrators.
import type { FastifyInstance } from 'fastify';
import type { DependencyMonitor } from '../health/dependency-monitor.ts';
import type { ServerContext } from '../modules/server-context.ts';
import { CpuSampler, nodeStatus } from './node-status.ts';

const counters = {
  type: 'object',
  required: ['total', 'current', 'peak'],
  properties: { total: { type: 'integer' }, current: { type: 'integer' }, peak: { type: 'integer' } },
} as const;

const statusSchema = {
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
        seniorNodeId: { type: ['string', 'null'] },
        members: {
          type: 'array',
          items: {
            type: 'object',
            properties: { nodeId: { type: 'string' }, address: { type: 'string' }, joinedAt: { type: 'string', format: 'date-time' } },
          },
        },
      },
    },
  },
} as const;

const readySchema = {
  type: 'object',
  properties: { ready: { type: 'boolean' }, state: { type: 'string' }, reason: { type: ['string', 'null'] } },
} as const;

export function statusRoutes(context: ServerContext, health: DependencyMonitor) {
  return async (app: FastifyInstance): Promise<void> => {
    const cpu = new CpuSampler();

    app.get('/status', { schema: { response: { 200: statusSchema } } }, async () => nodeStatus(context, health, cpu));

    app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { alive: { type: 'boolean' } } } } } },
      async () => ({ alive: true }));

    app.get('/readyz', { schema: { response: { 200: readySchema, 503: readySchema } } }, async (_req, reply) => {
      const { state, reason } = health.status;
      const ready = health.acceptingLogins;
      reply.code(ready ? 200 : 503);
      return { ready, state, reason };
    });
  };
}
