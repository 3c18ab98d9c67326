// What loaded plugins add to the admin listener: their routes under /plugins/<name>/ and the
// console pages listed by GET /api/pages. Both come and go with the plugin (see
// plugins/plugin-routes.ts); authentication and CSRF checks apply as to every admin route.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../log.ts';
import type { PluginHost } from '../../plugins/plugin-host.ts';
import { AdminError } from './admin-errors.ts';
import { errors, pageSchema } from './admin-schemas.ts';

export function pluginExtensions(host: PluginHost, log: Logger) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/pages', {
      schema: {
        response: { 200: { type: 'object', required: ['pages'], properties: { pages: { type: 'array', items: pageSchema } } }, ...errors() },
      },
    }, async () => ({ pages: host.adminPages.list() }));

    app.route<{ Params: { plugin: string; '*': string } }>({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/plugins/:plugin/*',
      schema: {
        params: {
          type: 'object',
          required: ['plugin', '*'],
          properties: { plugin: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,47}$' }, '*': { type: 'string' } },
        },
      },
      handler: async (req, reply) => {
        // The path as sent: the table decodes each segment once, so "%2F" stays inside its
        // segment (fastify's decoded wildcard would already have turned it into a "/").
        const raw = req.url.split('?')[0]!;
        const path = raw.slice(raw.indexOf('/', '/plugins/'.length));
        let found: ReturnType<typeof host.adminRoutes.match>;
        try {
          found = host.adminRoutes.match(req.params.plugin, req.method, path);
        } catch (err) {
          if (err instanceof URIError) throw new AdminError('BAD_REQUEST', `malformed percent-encoding in ${path}`);
          throw err;
        }
        if (!found) throw new AdminError('NOT_FOUND', `plugin ${req.params.plugin} has no route ${req.method} ${path}`);
        try {
          const result = await found.route.handler({ request: req, reply, params: found.params });
          if (!reply.sent && result !== undefined) return result;
          return reply;
        } catch (err) {
          if (err instanceof AdminError) throw err;
          log.error('plugin admin route failed', { plugin: req.params.plugin, url: req.url, error: err instanceof Error ? err.stack : String(err) });
          throw new AdminError('INTERNAL', `plugin ${req.params.plugin} failed to answer`);
        }
      },
    });
  };
}
