// /api/cluster/consistency: the cluster data consistency check. Every node compares its
// replica of the routes with the cluster's shared ones; the node asked gathers all answers
// (ClusterManager.consistency, which the clustering plugin implements). POST .../repair
// makes every node repair what it finds first, as each does by itself after reconnecting.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../../server-context.ts';
import { AdminError } from './admin-errors.ts';
import { errors } from './admin-schemas.ts';

const jids = { type: 'array', items: { type: 'string' } } as const;
const kinds = ['unpublished', 'stale', 'missed', 'ghosts'] as const;
const consistencySchema = {
  type: 'object',
  required: ['nodes'],
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['node', 'checkedAt', 'repaired', 'counts', 'differences'],
        properties: {
          node: { type: 'string' },
          checkedAt: { type: 'string' },
          repaired: { type: 'boolean' },
          counts: { type: 'object', properties: Object.fromEntries(kinds.map((k) => [k, { type: 'integer' }])) },
          differences: { type: 'object', properties: Object.fromEntries(kinds.map((k) => [k, jids])) },
          error: { type: 'string' },
        },
      },
    },
  },
} as const;

export function clusterResource(context: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const check = async (repair: boolean) => {
      const manager = context.cluster();
      if (!manager.isClustered() || !manager.consistency) throw new AdminError('NOT_CLUSTERED');
      return { nodes: await manager.consistency(repair) };
    };
    app.get('/api/cluster/consistency', { schema: { response: { 200: consistencySchema, ...errors() } } }, () => check(false));
    app.post('/api/cluster/consistency/repair', { schema: { response: { 200: consistencySchema, ...errors() } } }, () => check(true));
  };
}
