// What loaded plugins serve on the client HTTP listeners: their public routes under
// /plugins/<name>/, looked up at each request in the table the plugin host keeps, so they
// come and go with the plugin (see plugins/plugin-routes.ts). No authentication: whoever
// reaches the port reaches the route, and the plugin decides what to check.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../log.ts';
import type { PluginRouteTable } from '../plugins/plugin-routes.ts';

export const PLUGIN_ROUTES_PREFIX = '/plugins';

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
}

export function pluginPublicRoutes(table: PluginRouteTable, log: Logger) {
  return async (app: FastifyInstance): Promise<void> => {
    app.route<{ Params: { plugin: string; '*': string } }>({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: `${PLUGIN_ROUTES_PREFIX}/:plugin/*`,
      handler: async (req, reply) => {
        const { plugin } = req.params;
        // The path as sent: the table decodes each segment once, so "%2F" stays inside its
        // segment (fastify's decoded wildcard would already have turned it into a "/").
        const raw = req.url.split('?')[0]!;
        const path = raw.slice(raw.indexOf('/', PLUGIN_ROUTES_PREFIX.length + 1));
        // fastify answers HEAD through the GET route; the plugin registered GET.
        const method = req.method === 'HEAD' ? 'GET' : req.method;
        let found: ReturnType<PluginRouteTable['match']>;
        try {
          found = table.match(plugin, method, path);
        } catch (err) {
          if (!(err instanceof URIError)) throw err;
          return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `malformed percent-encoding in ${path}` });
        }
        if (!found) return notFound(reply, `plugin ${plugin} has no route ${method} ${path}`);
        try {
          const result = await found.route.handler({ request: req, reply, params: found.params });
          if (!reply.sent && result !== undefined) return result;
          return reply;
        } catch (err) {
          log.error('plugin route failed', { plugin, url: req.url, error: err instanceof Error ? err.stack : String(err) });
          if (reply.sent) return reply;
          return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: `plugin ${plugin} failed to answer` });
        }
      },
    });
  };
}
