// What the cluster tests share: a node's plugins folder with the built clustering plugin
// dropped in (as an operator would), a Hazelcast client configuration with the properties
// that point nodes at it, and what a node says about the cluster over HTTP.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RosterItem } from '../../server/storage/types.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import type { TestDatabase } from '../helpers/test-database.ts';

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
 * attempt to reach it may take) and returns the properties that switch clustering on with it:
 * no startup delay, a free link port.
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
    'hazelcast.link.port': '0',
  };
}

export interface NodeStatus {
  state: string;
  reason: string | null;
  cluster?: { members: { nodeId: string }[]; seniorNodeId: string };
}

export async function nodeStatus(node: TestServer): Promise<NodeStatus> {
  return (await (await fetch(`http://127.0.0.1:${node.httpPort}/status`)).json()) as NodeStatus;
}

/** Nodes in the cluster as `node` sees it (0 when standalone). */
export async function clusterSize(node: TestServer): Promise<number> {
  return (await nodeStatus(node)).cluster?.members.length ?? 0;
}

/** Sessions in the node's routing table: its own, and every node's when clustered. */
export async function routeCount(node: TestServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
  return Number(/^xmppd_routes (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** A node named `node-<name>` on the shared MariaDB database, the clustering plugin dropped in under `work`. */
export function startClusterNode(database: TestDatabase, work: string, name: string, properties?: Record<string, string>): Promise<TestServer> {
  return startTestServer({
    dialect: 'mysql',
    database,
    properties,
    env: { XMPPD_NODE_ID: `node-${name}`, XMPPD_PLUGINS_DIR: pluginsWithCluster(join(work, name)) },
  });
}

/** A roster item of a contact with a mutual subscription. */
export function friend(jid: string): RosterItem {
  return { jid, name: null, subscription: 'both', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] };
}

/** What a cluster test started, to be stopped in reverse order at its end. */
export interface ClusterTestParts {
  clients: { destroy(): void }[];
  nodes: (TestServer | null)[];
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
