// GET /status (JSON for people and dashboards), /healthz (the process answers) and /readyz
// (it takes new clients: false while paused) for load balancers and orchestrators.
import type { FastifyInstance } from 'fastify';
import type { DependencyMonitor } from '../health/dependency-monitor.ts';
import type { ServerContext } from '../server-context.ts';
import { CpuSampler, nodeStatus, nodeStatusSchema } from './node-status.ts';

const readySchema = {
  type: 'object',
  properties: { ready: { type: 'boolean' }, state: { type: 'string' }, reason: { type: ['string', 'null'] } },
} as const;

export function statusRoutes(context: ServerContext, health: DependencyMonitor) {
  return async (app: FastifyInstance): Promise<void> => {
    const cpu = new CpuSampler();

    app.get('/status', { schema: { response: { 200: nodeStatusSchema } } }, async () => nodeStatus(context, health, cpu));

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
