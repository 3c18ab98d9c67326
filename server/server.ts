// Wiring of one node: storage, properties, routing, modules and listeners, in that order
// (each needs the ones before it). Nothing here knows a feature by name: features are in
// modules/ and plugins.
import { ModuleMetrics } from './extension/module-metrics.ts';
import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import { CLUSTER_LEAVING, MEMBERS_CHANGED, type ClusterLeavingEvent, type MembersChangedEvent } from './cluster/cluster-events.ts';
import { ClusterSlot } from './cluster/cluster-slot.ts';
import type { ServerConfig } from './config/types.ts';
import { EventBus } from './events/event-bus.ts';
import { createNodeHealth } from './health/node-health.ts';
import { startClientHttp } from './http/client-http-server.ts';
import { createClientHttpShared } from './http/client-http-shared.ts';
import { startAdminServer } from './http/admin/admin-server.ts';
import { defineKnownProperties } from './known-properties.ts';
import { rootLogger, setLogLevel } from './log.ts';
import { BUILTIN_MODULES } from './modules/builtin.ts';
import { mucModule } from './modules/muc/index.ts';
import type { RoomAdmin } from './extension/room-admin.ts';
import { seedPluginsDir } from './plugins/bundled-plugins.ts';
import { PluginHost } from './plugins/plugin-host.ts';
import { workDirOf } from './plugins/work-dir.ts';
import { DiscoRegistry } from './extension/disco-registry.ts';
import { createKernel } from './extension/kernel-facade.ts';
import type { StreamFeatureProvider } from './extension/module-context.ts';
import { ModuleLoader } from './extension/module-loader.ts';
import { moduleServicesOf } from './module-services.ts';
import type { ServerContext } from './server-context.ts';
import { PropertyRegistry } from './properties/property-registry.ts';
import { registerDefaultDelivery } from './routing/default-delivery.ts';
import { listenForRemoteEnds } from './session/end-sessions.ts';
import { AccountDeletions } from './accounts/account-deletions.ts';
import { Router } from './routing/router.ts';
import { SessionManager } from './session/session-manager.ts';
import { ServerStats } from './stats.ts';
import { VerifiedPasswordCache } from './auth/verified-password-cache.ts';
import { loadServerSecrets } from './auth/server-secrets.ts';
import { FailureThrottle } from './auth/failure-throttle.ts';
import { openStorage } from './storage/database.ts';
import { claimServedDomain } from './storage/served-domain.ts';
import { ClientStream } from './stream/client-stream.ts';
import { ResumableSessions } from './stream/sm/resumable-sessions.ts';
import { SessionHandover } from './stream/sm/session-handover.ts';
import { SessionReplicas } from './stream/sm/session-replicas.ts';
import { defineSmProperties } from './stream/sm/sm-properties.ts';
import { loadOrCreateCertificate } from './tls/certificates.ts';
import { ReloadableSecureContext } from './tls/reloadable-context.ts';
import { ClientConnections } from './transport/client-connections.ts';
import { listenTcp } from './transport/tcp.ts';
import type { Transport } from './transport/transport.ts';
import { StreamError } from './xml/errors.ts';
import { SERVER_VERSION } from './version.ts';

/** How often each node looks for property changes made by other nodes. */
const PROPERTY_POLL_MS = 2_000;
/** How long stop() waits for client connections to close before closing storage. */
const SHUTDOWN_GRACE_MS = 2_000;

export interface RunningServer {
  readonly context: ServerContext;
  /** Addresses actually bound (ports resolved when 0 was configured). */
  readonly addresses: {
    c2s?: net.AddressInfo;
    c2sTls?: net.AddressInfo;
    http?: net.AddressInfo;
    https?: net.AddressInfo;
    admin?: net.AddressInfo;
  };
  /** Runs a stream over any transport (BOSH and WebSocket use this). */
  accept(transport: Transport): void;
  /**
   * Reads the certificate and key again (a renewed certificate, on SIGHUP) for every
   * handshake from now on; connections already encrypted stay as they are. On an error the
   * old certificate stays in use and the error is thrown.
   */
  reloadTls(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  setLogLevel(config.logLevel);
  const log = rootLogger;
  log.info('starting', { version: SERVER_VERSION, domain: config.domain, node: config.nodeId, config: config.file ?? '(defaults)' });

  // Everything opened is pushed here, so a failed start and stop() undo the same steps.
  const teardown: (() => unknown)[] = [];
  const shutdown = async (): Promise<void> => {
    while (teardown.length) {
      try {
        await teardown.pop()!();
      } catch (err) {
        log.warn('shutdown step failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  try {
    const storage = await openStorage(config.database, log.child('storage'), { migrate: true });
    teardown.push(() => storage.close());
    // Before anything reads the data: another domain's accounts and rosters are not ours to serve.
    await claimServedDomain(storage.servedDomain, config.domain);
    const secrets = await loadServerSecrets(storage);
    const properties = new PropertyRegistry(storage.properties, log.child('properties'));
    // All of them, used here or not, so the admin API lists what `xmppd property` lists.
    const core = defineKnownProperties(properties);
    await properties.load();
    properties.startPolling(PROPERTY_POLL_MS);
    teardown.push(() => properties.stopPolling());
    const health = createNodeHealth(properties, storage, log.child('health'));
    health.start();
    teardown.push(() => health.stop());

    const certificate = await loadOrCreateCertificate(config, log.child('tls'));
    const tls = new ReloadableSecureContext(certificate);

    const events = new EventBus();
    // Standalone until the clustering plugin installs its own pair (see cluster/cluster-slot.ts).
    const cluster = new ClusterSlot(config.nodeId, (nodes, previous) => events.fire<MembersChangedEvent>(MEMBERS_CHANGED, { nodes, previous }), (staying) => {
      const handovers: Promise<unknown>[] = [];
      events.fire<ClusterLeavingEvent>(CLUSTER_LEAVING, { nodes: staying, waitUntil: (work) => handovers.push(work) });
      return Promise.allSettled(handovers);
    });
    const sessions = new SessionManager(config.nodeId, cluster.localTable(), events, log.child('sessions'));
    const router = new Router(config.domain, events, sessions, cluster.standalone, log.child('router'));
    cluster.connect({ router, sessions });
    const routeHold = registerDefaultDelivery({ events, router, sessions, userExists: (u) => storage.users.exists(u) });
    listenForRemoteEnds(events, sessions);

    const accounts = new AccountDeletions({
      storage,
      nodeId: config.nodeId,
      domain: config.domain,
      sessions,
      cluster: () => cluster.current(),
      properties,
      adminJids: core.adminJids,
      log: log.child('accounts'),
    });
    const kernel = createKernel({
      version: SERVER_VERSION,
      nodeId: config.nodeId,
      plaintextAuthAllowed: config.allowPlaintextAuth,
      router,
      sessions,
      events,
      cluster: () => cluster.current(),
      accounts,
      routeHold,
    });
    const stats = new ServerStats();
    const smProperties = defineSmProperties(properties);
    const resumable = new ResumableSessions({
      nodeId: config.nodeId, properties: smProperties, sessions, router, events, log: log.child('sm'),
    });
    const replicas = new SessionReplicas({
      nodeId: config.nodeId, cluster: () => cluster.current(), events, enabled: () => smProperties.clusterReplicas.value,
      settle: (jid, stanzas) => resumable.settle(jid, stanzas), log: log.child('sm'),
    });
    resumable.replicas = replicas;
    teardown.push(() => replicas.stop());
    const context: ServerContext = {
      kernel,
      domain: config.domain,
      version: SERVER_VERSION,
      config,
      log,
      events,
      router,
      sessions,
      storage,
      properties,
      core,
      disco: new DiscoRegistry(),
      streamFeatures: new Set<StreamFeatureProvider>(),
      stats,
      moduleMetrics: new ModuleMetrics(),
      passwordCache: new VerifiedPasswordCache(core.plainCacheSize.value),
      secrets,
      health,
      cluster: () => cluster.current(),
      authThrottle: new FailureThrottle(storage.authFailures, () => core.authThrottleWindow.value),
      accounts,
      resumable,
      handover: new SessionHandover({
        nodeId: config.nodeId, domain: config.domain, resumable, replicas, sessions, cluster: () => cluster.current(), events, stats, log: log.child('sm'),
      }),
    };

    core.plainCacheSize.onChange((size) => { context.passwordCache = new VerifiedPasswordCache(size); });

    const modules = new ModuleLoader(moduleServicesOf(context));
    teardown.push(() => modules.unloadAll());
    for (const mod of BUILTIN_MODULES) await modules.load(mod);
    // Plugins after the built-in modules, which they may build on, and before the listeners,
    // so the first client already sees their features.
    await seedPluginsDir(config.pluginsDir, config.bundledPlugins, { serverVersion: SERVER_VERSION, maxArchiveBytes: core.pluginsMaxArchiveBytes.value }, log.child('plugins'));
    const plugins = new PluginHost({ server: context, cluster, pluginsDir: config.pluginsDir, workDir: workDirOf(config.dataDir), log: log.child('plugins') });
    teardown.push(() => plugins.stop());
    // Before the plugins stop (the clustering plugin would expect routes again) and the modules
    // unload: held messages take their fallback while offline storage is still there.
    teardown.push(() => routeHold.releaseAll());
    await plugins.start();
    // Once every handler is registered: deletions made while no node ran (`xmppd user del`)
    // are finished before the first client connects, then the journal is followed.
    await accounts.start();
    teardown.push(() => accounts.stop());

    const accept = (transport: Transport): void => {
      new ClientStream(transport, context);
    };
    // Stopping listeners first keeps new clients out; sessions then end with system-shutdown.
    teardown.push(async () => {
      for (const session of [...sessions.all()]) session.close(new StreamError('system-shutdown'));
      // Let modules see each session/closed (unavailable presence, last activity) while storage is open.
      for (let waited = 0; sessions.size > 0 && waited < SHUTDOWN_GRACE_MS; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const addresses: RunningServer['addresses'] = {};
    const tcpLog = log.child('c2s');
    // One count for every client listener: the node's socket cap, the per-address limit.
    const connections = new ClientConnections(context.stats, core, tcpLog);
    if (config.c2s.enabled) {
      const s = await listenTcp({ ...config.c2s, tls, directTls: false, connections, log: tcpLog, onConnection: accept });
      teardown.push(() => s.close());
      addresses.c2s = s.address() as net.AddressInfo;
    }
    if (config.c2sTls.enabled) {
      const s = await listenTcp({ ...config.c2sTls, tls, directTls: true, connections, log: tcpLog, onConnection: accept });
      teardown.push(() => s.close());
      addresses.c2sTls = s.address() as net.AddressInfo;
    }
    // Created once for both client HTTP listeners: one set of properties and one metrics
    // registry, which the admin listener serves too.
    const shared = config.http.enabled || config.https.enabled || config.admin.enabled
      ? createClientHttpShared({ context, pluginRoutes: plugins.publicRoutes, log: log.child('http') })
      : null;
    if (shared) teardown.push(() => shared.close());
    if (shared && (config.http.enabled || config.https.enabled)) {
      const httpOptions = { context, accept, shared, connections, log: log.child('http') };
      if (config.http.enabled) {
        const http = await startClientHttp({ ...httpOptions, listener: config.http });
        teardown.push(() => http.close());
        addresses.http = http.address;
      }
      if (config.https.enabled) {
        const https = await startClientHttp({ ...httpOptions, listener: config.https, tls });
        teardown.push(() => https.close());
        addresses.https = https.address;
      }
    }
    if (config.admin.enabled) {
      const serverInfo = { listeners: () => ({ ...addresses }), certificate: () => ({ pem: tls.certificate, generated: certificate.generated }) };
      const rooms = modules.apiOf(mucModule.name) as RoomAdmin;
      const admin = await startAdminServer(config.admin, { context, plugins, metrics: shared?.metrics, serverInfo, rooms, log: log.child('admin') });
      teardown.push(() => admin.close());
      addresses.admin = admin.address;
    }
    announce(config, addresses, certificate.generated);

    let stopping: Promise<void> | null = null;
    return {
      context,
      addresses,
      accept,
      async reloadTls() {
        try {
          const renewed = await loadOrCreateCertificate(config, log.child('tls'));
          tls.replace(renewed);
          log.info('TLS certificate reloaded', { cert: config.tls.cert ?? '(generated)', expires: new X509Certificate(renewed.cert).validTo });
        } catch (err) {
          log.error('TLS certificate not reloaded; the previous one stays in use', { error: err instanceof Error ? err.message : String(err) });
          throw err;
        }
      },
      stop() {
        stopping ??= (async () => {
          log.info('stopping');
          await shutdown();
          log.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await shutdown();
    throw err;
  }
}

function announce(config: ServerConfig, addresses: RunningServer['addresses'], generatedCert: boolean): void {
  const lines = [`xmppd ${SERVER_VERSION} serving ${config.domain}`];
  if (addresses.c2s) lines.push(`  clients (STARTTLS): ${addresses.c2s.address}:${addresses.c2s.port}`);
  if (addresses.c2sTls) lines.push(`  clients (direct TLS): ${addresses.c2sTls.address}:${addresses.c2sTls.port}`);
  if (addresses.http) {
    const base = `${addresses.http.address}:${addresses.http.port}`;
    lines.push(`  web clients: http://${base}/http-bind (BOSH), ws://${base}/ws (WebSocket); status at http://${base}/status`);
  }
  if (addresses.https) {
    const base = `${addresses.https.address}:${addresses.https.port}`;
    lines.push(`  web clients (TLS): https://${base}/http-bind (BOSH), wss://${base}/ws (WebSocket); status at https://${base}/status`);
  }
  if (addresses.admin) lines.push(`  admin API: http://${addresses.admin.address}:${addresses.admin.port}/api (accounts listed in the property admin.jids)`);
  lines.push(`  database: ${config.database.type === 'sqlite' ? config.database.path : 'mysql'}`);
  if (generatedCert) lines.push(`  TLS: generated a self-signed certificate for ${config.domain} under ${config.dataDir}/tls`);
  lines.push(`  add a user: npx xmppd user add alice@${config.domain} <password>`);
  process.stdout.write(lines.join('\n') + '\n');
}
