// /api/status: this node's status for the console's dashboard and clustering page, the same
// object the client listeners answer at /status (node-status.ts), behind the admin login.
// /api/metrics: the client listeners' /metrics, behind the same login (Prometheus sends it
// as basic_auth), for wherever xmpp.http.status.allowed does not reach.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ServerContext } from '../../server-context.ts';
import { metricsRoute } from '../metrics.ts';
import { CpuSampler, nodeStatus, nodeStatusSchema } from '../node-status.ts';
import { errors } from './admin-schemas.ts';

export function statusResource(context: ServerContext, metrics: Registry | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    // Its own sampler: CPU use is measured between this listener's calls.
    const cpu = new CpuSampler();
    app.get('/api/status', {
      schema: { response: { 200: nodeStatusSchema, ...errors() } },
    }, async () => nodeStatus(context, context.health, cpu));
    if (metrics) await app.register(metricsRoute(metrics, { path: '/api/metrics' }));
  };
}
