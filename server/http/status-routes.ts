// GET /status (JSON for people and dashboards), /healthz (the process answers) and /readyz
// (it takes new clients: false while paused) for load balancers and orchestrators.
// /status names the process, its memory and its traffic, so it is served only to the
// clients xmpp.http.status.allowed lists (`onlyAllowed`, used for /metrics too); /healthz
// and /readyz say no more than alive and ready and are open to every balancer, whichever
// addresses its checks come from.
import type http from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DependencyMonitor } from '../health/dependency-monitor.ts';
import type { ServerContext } from '../server-context.ts';
import { CpuSampler, nodeStatus, nodeStatusSchema } from './node-status.ts';

const readySchema = {
  type: 'object',
  properties: { ready: { type: 'boolean' }, state: { type: 'string' }, reason: { type: ['string', 'null'] } },
} as const;

/**
 * An onRequest hook refusing, with 403 and the reason, the clients `allowed` says no to;
 * `adminPath` is where administrators find the same on the admin listener.
 */
export function onlyAllowed(allowed: (req: http.IncomingMessage) => boolean, adminPath: string) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (allowed(req.raw)) return;
    await reply.code(403).type('text/plain; charset=utf-8').send(`${req.url.split('?')[0]} is served only to the networks `
      + `in the property xmpp.http.status.allowed; administrators find it on the admin listener at ${adminPath}\n`);
  };
}

export function statusRoutes(context: ServerContext, health: DependencyMonitor, allowed: (req: http.IncomingMessage) => boolean) {
  return async (app: FastifyInstance): Promise<void> => {
    const cpu = new CpuSampler();

    app.get('/status', { schema: { response: { 200: nodeStatusSchema } }, onRequest: onlyAllowed(allowed, '/api/status') },
      async () => nodeStatus(context, health, cpu));

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
