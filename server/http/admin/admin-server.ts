// The admin listener (default 127.0.0.1:9090): a JSON API for plugins, system properties and
// the node's status, and the admin console built on it (console-assets.ts). One encapsulated
// fastify plugin per resource, JSON schemas on every route, errors from admin-errors.ts.
// Every route but login and the console's static files requires an administrator
// (admin-auth.ts); console sessions also need the CSRF token for changes.
import type net from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { ListenerConfig } from '../../config/types.ts';
import type { Logger } from '../../log.ts';
import type { ServerContext } from '../../server-context.ts';
import type { PluginHost } from '../../plugins/plugin-host.ts';
import { AdminAuthenticator } from './admin-auth.ts';
import { AllowedHosts } from './allowed-hosts.ts';
import { AdminError, errorBody } from './admin-errors.ts';
import { AdminSessionStore } from './admin-sessions.ts';
import { consoleAssets } from './console-assets.ts';
import { pluginExtensions } from './plugin-extensions.ts';
import { pluginResource } from './plugin-resource.ts';
import { onlineResource } from './online-resource.ts';
import { propertyResource } from './property-resource.ts';
import { userResource } from './user-resource.ts';
import { sessionResource } from './session-resource.ts';
import { serverInfoResource, type ServerInfoSources } from './server-info-resource.ts';
import { statusResource } from './status-resource.ts';
import { clusterResource } from './cluster-resource.ts';
import { roomResource } from './room-resource.ts';
import type { RoomAdmin } from '../../extension/room-admin.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without authentication (login, the console's static files). */
    public?: boolean;
  }
}

export interface AdminServerOptions {
  context: ServerContext;
  plugins: PluginHost;
  log: Logger;
  /** Where the built console is (tests); dist/console/ of the installation by default. */
  consoleDir?: string;
  /** The host the listener is configured with, a name its requests may carry in Host. */
  listenerHost?: string;
  /** The listeners and certificate for /api/server (absent in tests of the app alone: an empty answer). */
  serverInfo?: ServerInfoSources;
  /** The node's metrics (client-http-shared.ts), served at /api/metrics. */
  metrics?: Registry;
  /** The group chat service's operator API (the muc module's); without it there are no /api/rooms routes. */
  rooms?: RoomAdmin;
}

export interface AdminServer {
  readonly address: net.AddressInfo;
  close(): Promise<void>;
}

function asAdminError(err: FastifyError, log: Logger, url: string): AdminError {
  if (err instanceof AdminError) return err;
  if (err.validation) return new AdminError('VALIDATION_FAILED', err.message);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AdminError('PAYLOAD_TOO_LARGE');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AdminError('UNSUPPORTED_MEDIA_TYPE');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new AdminError('BAD_REQUEST', err.message);
  log.error('admin request failed', { url, error: err.stack ?? err.message });
  return new AdminError('INTERNAL');
}

/** The admin app, not listening (tests use inject()). */
export async function createAdminApp({ context, plugins, log, consoleDir, listenerHost, metrics, serverInfo, rooms }: AdminServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    // Errors fastify raises before routing (a URL that does not decode) get our error body too.
    frameworkErrors: (err, _req, reply) => {
      (reply as unknown as FastifyReply).code(400).send(errorBody(new AdminError('BAD_REQUEST', `malformed URL: ${err.message}`)));
    },
  }) as unknown as FastifyInstance;
  const auth = new AdminAuthenticator(context, new AdminSessionStore(() => context.core.adminSessionIdleTimeout.value));

  app.decorateRequest('admin', null);
  // Before anything else, the console's files included: see allowed-hosts.ts.
  let hosts = new AllowedHosts(context.core.adminAllowedHosts.value, listenerHost);
  let hostsFrom = context.core.adminAllowedHosts.value;
  app.addHook('onRequest', async (req) => {
    const listed = context.core.adminAllowedHosts.value;
    if (listed !== hostsFrom) {
      hosts = new AllowedHosts(listed, listenerHost);
      hostsFrom = listed;
    }
    if (hosts.allows(req.headers.host)) return;
    log.debug('admin request refused: Host not allowed', { host: req.headers.host, address: req.ip, url: req.url });
    throw new AdminError('HOST_NOT_ALLOWED', `Host ${JSON.stringify(req.headers.host?.slice(0, 100))} is not a name of this admin listener: `
      + 'open it by its IP address or as localhost, or list the name in the property admin.allowed-hosts');
  });
  app.addHook('onRequest', async (req) => {
    // Unknown routes fall through to the not-found handler, which reveals nothing.
    if (req.routeOptions.config.public || req.routeOptions.url === undefined) return;
    req.admin = await auth.identify(req);
  });
  app.addHook('onSend', async (_req, reply) => {
    // API answers are never cached; the console's files say how they may be.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'SAMEORIGIN');
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = asAdminError(err, log, req.url);
    if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
    reply.code(e.statusCode).send(errorBody(e));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody(new AdminError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  });

  await app.register(sessionResource(auth));
  await app.register(pluginResource(plugins, context));
  await app.register(propertyResource(context));
  await app.register(userResource(context));
  await app.register(onlineResource(context));
  await app.register(pluginExtensions(plugins, log));
  await app.register(statusResource(context, metrics));
  await app.register(clusterResource(context));
  if (rooms) await app.register(roomResource(rooms, log));
  await app.register(serverInfoResource(context, plugins, serverInfo ?? { listeners: () => ({}), certificate: () => null }));
  await app.register(consoleAssets(consoleDir));
  return app;
}

export async function startAdminServer(listener: Pick<ListenerConfig, 'host' | 'port'>, options: AdminServerOptions): Promise<AdminServer> {
  const app = await createAdminApp({ listenerHost: listener.host, ...options });
  await app.listen({ host: listener.host, port: listener.port });
  let closing: Promise<void> | null = null;
  return {
    address: app.server.address() as net.AddressInfo,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
