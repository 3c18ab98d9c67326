// What the cluster tests share: a node's plugins folder with the built clustering plugin
// dropped in (as an operator would), a Hazelcast client configuration with the properties
// that point nodes at it, and what a node says about the cluster over HTTP.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RosterItem } from '../../server/storage/types.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const PLUGIN = fileURLToPath(new URL('../../plugins/hazelcast/', import.meta.url));

/** A plugins folder under `dir` holding the clustering plugin; returns its path. */
export function pluginsWithCluster(dir: string): string {
  assert.ok(existsSync(join(PLUGIN, 'index.js')), 'plugins/hazelcast/index.js is missing: npm install (or npm run prepare) bundles it');
  const plugins = join(dir, 'plugins');
  mkdirSync(join(plugins, 'hazelcast'), { recursive: true });
  for (const file of ['plugin.json', 'index.js']) copyFileSync(join(PLUGIN, file), join(plugins, 'hazelcast', file));
  return plugins;
}

/**
 * Writes `dir`/client.xml naming the cluster and its members (`connectTimeoutMs`: how long one
 * attempt to reach it may take) and returns the properties that switch clustering on with it,
 * with no startup delay.
 */
export function clusterProperties(dir: string, cluster: { clusterName: string; addresses: string[]; connectTimeoutMs?: number }): Record<string, string> {
  const retry = cluster.connectTimeoutMs === undefined ? '' : `
  <connection-strategy><connection-retry><cluster-connect-timeout-millis>${cluster.connectTimeoutMs}</cluster-connect-timeout-millis></connection-retry></connection-strategy>`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'client.xml'), `<?xml version="1.0"?>
<!-- the test's Hazelcast client configuration -->
<hazelcast-client xmlns="http://www.hazelcast.com/schema/client-config">
  <cluster-name>${cluster.clusterName}</cluster-name>
  <network><cluster-members>${cluster.addresses.map((a) => `<address>${a}</address>`).join('')}</cluster-members></network>${retry}
</hazelcast-client>
`);
  return {
    'clustering.enabled': 'true',
    'hazelcast.startup.delay.seconds': '0',
    'hazelcast.config.xml.directory': dir,
    'hazelcast.config.xml.filename': 'client.xml',
  };
}

/**
 * The environment of a clustered test node: its id, a plugins folder under `dir` with the
 * clustering plugin, and its own cluster link on any free port (a per-node setting of its
 * configuration, so that several nodes share the host).
 */
export function clusterNodeEnv(dir: string, nodeId: string): Record<string, string> {
  return { XMPPD_NODE_ID: nodeId, XMPPD_PLUGINS_DIR: pluginsWithCluster(dir), XMPPD_CLUSTER_LINK_PORT: '0' };
}

export interface NodeStatus {
  state: string;
  reason: string | null;
  dependencies: { name: string; critical: boolean; available: boolean }[];
  cluster?: {
    enabled: boolean; state: string; reason?: string | null; seniorNodeId: string | null;
    members: { nodeId: string; address: string; version?: string; pluginVersion?: string }[];
    hazelcast?: { cluster: string; addresses: string[] } | null;
    hazelcastMembers?: { address: string; uuid: string; version: string | null; lite: boolean }[] | null;
    versionSkew?: string | null;
  };
}

export async function nodeStatus(node: TestServer): Promise<NodeStatus> {
  return (await (await fetch(`http://127.0.0.1:${node.httpPort}/status`)).json()) as NodeStatus;
}

/** Nodes in the cluster as `node` sees it (0 when standalone). */
export async function clusterSize(node: TestServer): Promise<number> {
  return (await nodeStatus(node)).cluster?.members.length ?? 0;
}

/** Sessions in the node's routing table: its own, and every node's when clustered. */
export function routeCount(node: TestServer): Promise<number> {
  return metric(node, 'xmppd_routes');
}

/** A roster item of mutual subscription, for storage.roster.put. */
export function friend(jid: string): RosterItem {
  return { jid, name: null, subscription: 'both', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] };
}

/** GET /readyz: the status code and the body. */
export async function readiness(node: TestServer): Promise<{ status: number; body: { ready: boolean; state: string; reason: string | null } }> {
  const res = await fetch(`http://127.0.0.1:${node.httpPort}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; state: string; reason: string | null } };
}

/** The answer to SASL PLAIN on a fresh stream: 'success' or the failure's condition. */
export async function trySasl(node: TestServer, user: string, password: string): Promise<string> {
  const c = await RawClient.connect(node.c2sPort);
  try {
    await c.open();
    const answer = await c.authPlain(user, password);
    return answer.name === 'success' ? 'success' : answer.getChildElements()[0]?.name ?? 'failure';
  } finally {
    c.destroy();
  }
}

/** One line of /metrics by its full name (with labels), as a number; NaN when absent. */
export async function metric(node: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** Cluster link frames of one type a node sent since it joined (0 before the first). */
export async function framesSent(node: TestServer, type: string): Promise<number> {
  const n = await metric(node, `xmppd_cluster_link_frames_sent_total{type="${type}"}`);
  return Number.isNaN(n) ? 0 : n;
}

/**
 * What a test file of nodes on one MariaDB database needs: Hazelcast members, the database, a
 * working folder, and every node and client it starts, all undone by stop() (in after()).
 */
export interface ClusterWorld {
  hazelcast: HazelcastCluster;
  database: TestDatabase;
  work: string;
  /** A node named `node-<name>`; `properties` are stored in the shared database first. */
  startNode(name: string, properties?: Record<string, string>, env?: Record<string, string>): Promise<TestServer>;
  /**
   * Starts members again, empty, under the same cluster name and on the same ports (after
   * the test killed them): `hazelcast` is then the new cluster.
   */
  restartMembers(): Promise<void>;
  /** A client logged in as `user` (password `<user>-pw`), destroyed at stop(). */
  login(node: TestServer, user: string, resource: string): Promise<RawClient>;
  stop(): Promise<void>;
}

export async function startClusterWorld(members: number): Promise<ClusterWorld> {
  const work = mkdtempSync(join(tmpdir(), 'xmppd-cluster-world-'));
  const [hazelcast, database] = await Promise.all([startHazelcastCluster({ members }), createTestDatabase('mysql')]);
  const nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  const world: ClusterWorld = {
    hazelcast,
    database,
    work,
    async restartMembers() {
      const old = world.hazelcast;
      await Promise.all(old.members.map((m) => m.kill()));
      world.hazelcast = await startHazelcastCluster({ clusterName: old.clusterName, ports: old.members.map((m) => m.port) });
      await old.stop();
    },
    async startNode(name, properties, env = {}) {
      const node = await startTestServer({ dialect: 'mysql', database, properties, env: { ...clusterNodeEnv(join(work, name), `node-${name}`), ...env } });
      nodes.push(node);
      return node;
    },
    async login(node, user, resource) {
      const client = await RawClient.login(node.c2sPort, user, `${user}-pw`, { resource, presence: true });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.destroy();
      for (const n of nodes) await n.stop().catch(() => undefined);
      await world.hazelcast.stop();
      await database.drop();
      rmSync(work, { recursive: true, force: true });
    },
  };
  return world;
}

/** A node named `node-<name>` on the shared MariaDB database, the clustering plugin dropped in under `work`. */
export function startClusterNode(database: TestDatabase, work: string, name: string, properties?: Record<string, string>): Promise<TestServer> {
  return startTestServer({
    dialect: 'mysql',
    database,
    properties,
    env: clusterNodeEnv(join(work, name), `node-${name}`),
  });
}

/** What a cluster test started, to be stopped in reverse order at its end. */
export interface ClusterTestParts {
  clients: { destroy(): void }[];
  nodes: (TestServer | null | undefined)[];
  hazelcast?: { stop(): Promise<void> };
  database?: { drop(): Promise<void> };
  work?: string;
}

export async function stopClusterTest(parts: ClusterTestParts): Promise<void> {
  for (const c of parts.clients) c.destroy();
  for (const n of parts.nodes) await n?.stop().catch(() => undefined);
  await parts.hazelcast?.stop();
  await parts.database?.drop();
  if (parts.work) rmSync(parts.work, { recursive: true, force: true });
}
