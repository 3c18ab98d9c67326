// A client HTTP listener (port 7070, and 7443 with TLS when enabled): BOSH at /http-bind,
// WebSocket at /ws, their XEP-0156 discovery at /.well-known/host-meta(.json), /status,
// /healthz, /readyz and /metrics for operators and load balancers, and the public routes
// of plugins under /plugins/<name>/. Both web transports
// hand their connections to `accept`, the same entry TCP uses, so streams, SASL, binding
// and routing are shared code. What both listeners of a node share comes in `shared`.
// Sockets come in through the accept path of every client listener (transport/accept.ts):
// the node's connection cap first and, with TLS, a handshake within its deadline, done
// there rather than by an https.Server, whose handshake timeout is an idle timer.
import type net from 'node:net';
import type { ReloadableSecureContext } from '../tls/reloadable-context.ts';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ListenerConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ServerContext } from '../server-context.ts';
import { interposeAccept, logAcceptErrors } from '../transport/accept.ts';
import type { ClientConnections } from '../transport/client-connections.ts';
import type { Transport } from '../transport/transport.ts';
import { BoshEndpoint } from './bosh/bosh-endpoint.ts';
import { terminalBody } from './bosh/bosh-body.ts';
import { boshRoutes, isBoshPath } from './bosh/bosh-route.ts';
import type { ClientHttpShared } from './client-http-shared.ts';
import { hostMetaRoutes } from './host-meta.ts';
import { metricsRoute } from './metrics.ts';
import { pluginPublicRoutes } from './plugin-public-routes.ts';
import { onlyAllowed, statusRoutes } from './status-routes.ts';
import { WebSocketEndpoint } from './websocket-endpoint.ts';

export interface ClientHttpOptions {
  listener: Pick<ListenerConfig, 'host' | 'port'>;
  context: ServerContext;
  /** Runs a client stream over a transport (RunningServer.accept). */
  accept(transport: Transport): void;
  /** The node's TLS context: serve HTTPS and WSS instead of plain HTTP. */
  tls?: ReloadableSecureContext;
  /** Properties, metrics, client addresses and plugin routes, the same for every listener. */
  shared: ClientHttpShared;
  /** The caps and counts every client listener of the node shares. */
  connections: ClientConnections;
  log: Logger;
}

export interface ClientHttpServer {
  readonly address: net.AddressInfo;
  readonly bosh: BoshEndpoint;
  readonly websocket: WebSocketEndpoint;
  /** Ends BOSH sessions and WebSocket streams with system-shutdown, then stops listening. */
  close(): Promise<void>;
}

export async function startClientHttp(options: ClientHttpOptions): Promise<ClientHttpServer> {
  const { context, accept, shared, connections, log } = options;
  const properties = shared.properties;
  const bosh = new BoshEndpoint({
    domain: context.domain,
    properties,
    accept,
    connections,
    maxStanzaBytes: () => context.core.stanzaMaxBytes.value,
    log: log.child('bosh'),
  });

  const app: FastifyInstance = Fastify({
    logger: false,
    // Held BOSH requests are answered by bosh.shutdown(); nothing else is long-lived.
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  interposeAccept(app.server, {
    connections,
    secureContext: options.tls ?? null,
    alpnProtocols: ['http/1.1'],
    proxyProtocol: false,
    carries: 'http',
    trustedProxy: shared.trustsProxy,
    log,
  });
  const websocket = new WebSocketEndpoint({
    properties,
    accept,
    connections,
    remoteAddress: shared.remoteAddress,
    log: log.child('websocket'),
  });
  app.server.on('upgrade', websocket.upgrade);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) log.error('HTTP request failed', { url: req.url, error: err.stack ?? err.message });
    if (isBoshPath(req.url)) {
      reply.code(status).type('text/xml; charset=utf-8').send(terminalBody(status === 413 ? 'policy-violation' : status >= 500 ? 'internal-server-error' : 'bad-request'));
    } else {
      reply.code(status).type('text/plain; charset=utf-8').send(`${status >= 500 ? 'internal error' : err.message}\n`);
    }
  });

  await app.register(boshRoutes(bosh, properties.corsOrigins, shared.remoteAddress));
  await app.register(statusRoutes(context, context.health, shared.statusAllowed));
  await app.register(metricsRoute(shared.metrics, { onRequest: onlyAllowed(shared.statusAllowed, '/api/metrics') }));
  await app.register(hostMetaRoutes({ publicUrl: properties.publicUrl, secure: options.tls !== undefined, trustsProxy: shared.trustsProxy, log }));
  await app.register(pluginPublicRoutes(shared.pluginRoutes, log.child('plugin-routes')));

  await app.listen({ host: options.listener.host, port: options.listener.port });
  logAcceptErrors(app.server, log);
  const uncountBosh = shared.addBoshEndpoint(bosh);
  const address = app.server.address() as net.AddressInfo;

  let closing: Promise<void> | null = null;
  return {
    address,
    bosh,
    websocket,
    close() {
      closing ??= (async () => {
        bosh.shutdown();
        await websocket.close();
        await app.close();
        uncountBosh();
      })();
      return closing;
    },
  };
}
