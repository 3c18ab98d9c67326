// /api/online: the client sessions online now, on every node of the cluster (read from the
// routing table, which holds every node's routes when clustered), and kicking one of them:
// the node that holds it ends it with a policy-violation stream error.
import type { FastifyInstance } from 'fastify';
import { JID } from '../../jid/jid.ts';
import type { ServerContext } from '../../server-context.ts';
import type { RouteEntry } from '../../routing/routing-table.ts';
import { endSessions } from '../../session/end-sessions.ts';
import { AdminError } from './admin-errors.ts';
import { errors } from './admin-schemas.ts';

const onlineSchema = {
  type: 'object',
  required: ['jid', 'node', 'available', 'priority'],
  properties: {
    jid: { type: 'string' },
    /** The node holding the session. */
    node: { type: 'string' },
    available: { type: 'boolean' },
    priority: { type: 'integer' },
    /** From the presence last broadcast, when available. */
    show: { type: 'string' },
    status: { type: 'string' },
    /** The client's address, transport, TLS and login time, as the node holding it says. */
    address: { type: 'string' },
    transport: { type: 'string', enum: ['tcp', 'websocket', 'bosh'] },
    secure: { type: 'boolean' },
    since: { type: 'string', format: 'date-time' },
    /** The client software, from the node of its entity capabilities (XEP-0115), when it sent them. */
    client: { type: 'string' },
  },
} as const;

const NS_CAPS = 'http://jabber.org/protocol/caps';

function view(route: RouteEntry): Record<string, unknown> {
  const show = route.presence?.getChildText('show');
  const status = route.presence?.getChildText('status');
  const client = route.presence?.getChild('c', NS_CAPS)?.attrs.node;
  const c = route.connection;
  return {
    jid: route.jid,
    node: route.nodeId,
    available: route.available,
    priority: route.priority,
    ...(show ? { show } : {}),
    ...(status ? { status } : {}),
    ...(c ? { address: c.address, transport: c.transport, secure: c.secure, since: new Date(c.since).toISOString() } : {}),
    ...(client ? { client } : {}),
  };
}

export function onlineResource(context: ServerContext) {
  const table = () => context.sessions.routingTable;
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { user?: string } }>('/api/online', {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { user: { type: 'string', minLength: 1, maxLength: 3071 } } },
        response: { 200: { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: onlineSchema } } }, ...errors(400) },
      },
    }, async (req) => {
      let routes: readonly RouteEntry[];
      if (req.query.user !== undefined) {
        const jid = JID.tryParse(req.query.user.includes('@') ? req.query.user : `${req.query.user}@${context.domain}`);
        if (!jid || !jid.local) throw new AdminError('BAD_REQUEST', `'${req.query.user}' is not a user name or a bare JID`);
        routes = table().getRoutes(jid.bareString());
      } else {
        routes = table().all();
      }
      return { sessions: [...routes].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0)).map(view) };
    });

    app.delete<{ Params: { jid: string } }>('/api/online/:jid', {
      schema: {
        params: { type: 'object', required: ['jid'], properties: { jid: { type: 'string', minLength: 1, maxLength: 3071 } } },
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    }, async (req, reply) => {
      const route = table().getRoute(req.params.jid);
      if (!route) throw new AdminError('SESSION_NOT_FOUND', `no session ${req.params.jid} is online`);
      endSessions(context, { jid: route.jid, condition: 'policy-violation', text: 'Disconnected by an administrator' });
      context.log.info('session ended through the admin API', { jid: route.jid, node: route.nodeId, by: req.admin!.jid });
      return reply.code(204).send();
    });
  };
}
