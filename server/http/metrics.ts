// GET /metrics in the Prometheus text format. Every figure is read from the counters the
// kernel keeps anyway (server/stats.ts, the router, the health monitor) when Prometheus
// scrapes, so metrics cost nothing between scrapes. The registry is per server, not
// prom-client's global one, so several servers can live in one process (tests).
import { versionSkew } from '../cluster/version-skew.ts';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DependencyMonitor, NodeState } from '../health/dependency-monitor.ts';
import type { ServerContext } from '../server-context.ts';
import type { TransportKind } from '../transport/transport.ts';

const TRANSPORTS: TransportKind[] = ['tcp', 'bosh', 'websocket'];
const STATES: NodeState[] = ['running', 'degraded', 'paused'];
const STANZA_KINDS = ['message', 'presence', 'iq'] as const;
/** A scrape must not hang on a database that does not answer. */
const STORAGE_TIMEOUT_MS = 1_000;

export interface MetricsSources {
  context: ServerContext;
  health: DependencyMonitor;
  boshSessions(): number;
}

export function createMetricsRegistry({ context, health, boshSessions }: MetricsSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const stats = context.stats;

  /** A counter mirroring a total kept elsewhere. */
  const mirror = (name: string, help: string, read: () => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };

  new Gauge({
    name: 'xmppd_connections', help: 'Client connections open now, by transport', labelNames: ['transport'], registers,
    collect() {
      for (const t of TRANSPORTS) this.set({ transport: t }, stats.connections[t].current);
    },
  });
  new Gauge({
    name: 'xmppd_connections_peak', help: 'Most client connections open at once since start, by transport', labelNames: ['transport'], registers,
    collect() {
      for (const t of TRANSPORTS) this.set({ transport: t }, stats.connections[t].peak);
    },
  });
  new Counter({
    name: 'xmppd_connections_opened_total', help: 'Client connections accepted since start, by transport', labelNames: ['transport'], registers,
    collect() {
      this.reset();
      for (const t of TRANSPORTS) this.inc({ transport: t }, stats.connections[t].total);
    },
  });
  new Gauge({
    name: 'xmppd_sessions', help: 'Authenticated, bound client sessions on this node', registers,
    collect() {
      this.set(context.sessions.size);
    },
  });
  new Gauge({
    name: 'xmppd_routes', help: 'Sessions in this node\'s routing table: its own, plus those of every other node when clustered', registers,
    collect() {
      this.set(context.sessions.routingTable.size());
    },
  });
  new Gauge({
    name: 'xmppd_bosh_sessions', help: 'BOSH sessions open on this node (bound or not)', registers,
    collect() {
      this.set(boshSessions());
    },
  });
  new Gauge({
    name: 'xmppd_client_sockets', help: 'Sockets open on the client listeners (TCP, TLS, HTTP, HTTPS), those still in their TLS handshake included', registers,
    collect() {
      this.set(stats.clientSockets);
    },
  });
  mirror('xmppd_client_sockets_refused_total', 'Client sockets closed at accept because the node was at xmpp.c2s.max-connections', () => stats.refusedSockets);
  mirror('xmppd_send_queue_overflows_total', 'Client streams closed because more than xmpp.c2s.send-queue.max-bytes waited for a peer that did not read', () => stats.sendQueueOverflows);
  mirror('xmppd_logins_total', 'Successful client logins (resource bound)', () => stats.logins);
  mirror('xmppd_login_failures_total', 'Failed or refused SASL authentications', () => stats.loginFailures);
  new Counter({
    name: 'xmppd_stanzas_received_total', help: 'Stanzas received from local clients, by kind', labelNames: ['kind'], registers,
    collect() {
      this.reset();
      for (const k of STANZA_KINDS) this.inc({ kind: k }, stats.stanzasIn[k]);
    },
  });
  new Counter({
    name: 'xmppd_stanzas_sent_total', help: 'Stanzas written to local clients, by kind', labelNames: ['kind'], registers,
    collect() {
      this.reset();
      for (const k of STANZA_KINDS) this.inc({ kind: k }, stats.stanzasOut[k]);
    },
  });
  const routing = new Histogram({
    name: 'xmppd_routing_seconds',
    help: 'Time the router spends on a stanza up to local delivery (one stanza in 16 is timed; storage lookups excluded)',
    buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025],
    registers,
  });
  context.router.latencyObserver = (seconds) => routing.observe(seconds);
  mirror('xmppd_stanzas_routed_total', 'Stanzas handed to the router (from clients and from the server itself)', () => context.router.stats.routed);
  mirror('xmppd_stanzas_delivered_total', 'Stanzas delivered to a full JID (local session or another node)', () => context.router.stats.delivered);
  let offline = 0;
  new Gauge({
    name: 'xmppd_offline_messages', help: 'Messages stored for offline users (all users; last known value while the database is down)', registers,
    async collect() {
      const total = await withTimeout(context.storage.offline.total(), STORAGE_TIMEOUT_MS);
      if (total !== null) offline = total;
      this.set(offline);
    },
  });
  new Gauge({
    name: 'xmppd_state', help: 'Node state: 1 for the current one of running, degraded, paused', labelNames: ['state'], registers,
    collect() {
      for (const s of STATES) this.set({ state: s }, health.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'xmppd_dependency_up', help: 'Whether a service this node depends on answers (1) or not (0)', labelNames: ['dependency'], registers,
    collect() {
      this.reset();
      for (const d of health.status.dependencies) this.set({ dependency: d.name }, d.available ? 1 : 0);
    },
  });
  new Gauge({
    name: 'xmppd_cluster_enabled', help: 'Whether clustering is switched on (1, joined or not yet) or off (0)', registers,
    collect() {
      this.set(context.cluster().summary().enabled ? 1 : 0);
    },
  });
  new Gauge({
    name: 'xmppd_cluster_members', help: 'Cluster members this node sees, itself included (1 when standalone or not joined)', registers,
    collect() {
      // Not joined (clustering off, or on and still joining): the node sees itself alone.
      this.set(context.cluster().summary().members.length || 1);
    },
  });
  new Gauge({
    name: 'xmppd_cluster_version_skew', help: 'Whether the cluster\'s nodes run different xmppd or plugin versions (1) or not (0), as they published them', registers,
    collect() {
      this.set(versionSkew(context.cluster().summary().members) === null ? 0 : 1);
    },
  });
  new Gauge({
    name: 'xmppd_hazelcast_members', help: 'Hazelcast members the clustering plugin\'s client is connected to (0 when clustering is off or the client is not connected)', registers,
    collect() {
      this.set(context.cluster().summary().hazelcastMembers?.length ?? 0);
    },
  });
  new Counter({
    name: 'xmppd_cluster_link_frames_sent_total', help: 'Frames this node wrote on its cluster links since it joined, by type (deliver, deliver-each, ack, each-ack, json)',
    labelNames: ['type'], registers,
    collect() {
      this.reset();
      for (const [type, n] of Object.entries(context.cluster().summary().linkFrames ?? {})) this.inc({ type }, n);
    },
  });
  // What modules and plugins publish (ctx.metric), as they come and go. The registry lives
  // as long as the server's context, so following it needs no undoing.
  context.moduleMetrics.follow({
    added(metric) {
      const { name, help, read } = metric;
      if (metric.type === 'counter') mirror(name, help, read);
      else new Gauge({ name, help, registers, collect() { this.set(read()); } });
    },
    removed(name) {
      registry.removeSingleMetric(name);
    },
  });
  return registry;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(resolve, () => resolve(null)).finally(() => clearTimeout(timer));
  });
}

/** GET `path`, for the clients `onRequest` lets through (all when absent). */
export function metricsRoute(registry: Registry, { path = '/metrics', onRequest }: { path?: string; onRequest?: onRequestHookHandler } = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(path, onRequest ? { onRequest } : {}, async (_req, reply) => {
      reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
