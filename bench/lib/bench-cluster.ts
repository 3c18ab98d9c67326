// What the two-node benches share: a MariaDB database, one Hazelcast member (the shipped
// member.xml), the client configuration pointing at it, the cluster's properties stored, and
// a way to start a node; everything is undone by the teardown. Failure detection is left at
// its defaults: what the benches measure depends on it.
import { join } from 'node:path';
import { Logger, setLogLevel } from '../../server/log.ts';
import { openStorage } from '../../server/storage/database.ts';
import type { Storage } from '../../server/storage/types.ts';
import { startClusterNode, type ClusterNode } from '../targets/xmppd-cluster-node.ts';
import { sleep } from '../load/progress.ts';
import { startBenchMember, writeClientConfig } from './hazelcast-member.ts';
import { createBenchDatabase } from './mariadb.ts';
import type { Teardown } from './teardown.ts';

const WAIT_MS = 60_000;

export interface BenchCluster {
  storage: Storage;
  /** Starts node `node-<name>` on the shared database (pinned to `cpu`, if given), stopped by the teardown. */
  start(name: string, cpu?: number | null): Promise<ClusterNode>;
}

export async function startBenchCluster(work: string, teardown: Teardown, logLevel: string, properties: Record<string, string> = {}): Promise<BenchCluster> {
  const database = await createBenchDatabase();
  teardown.add(`database ${database.name}`, () => database.drop());
  const member = await startBenchMember(join(work, 'member.log'));
  teardown.add('Hazelcast member', () => member.stop());
  writeClientConfig(join(work, 'client.xml'), member);
  setLogLevel('warn');
  const storage = await openStorage({ type: 'mysql', url: database.url }, new Logger('bench'), { migrate: true });
  teardown.add('storage connection', () => storage.close());
  for (const [name, value] of Object.entries({
    'clustering.enabled': 'true',
    'hazelcast.startup.delay.seconds': '0',
    'hazelcast.config.xml.directory': work,
    'hazelcast.config.xml.filename': 'client.xml',
    'xmpp.c2s.max-connections-per-ip': '0',
    ...properties,
  })) await storage.properties.set(name, value);
  return {
    storage,
    async start(name, cpu = null) {
      const node = await startClusterNode({ nodeId: `node-${name}`, cpu, databaseUrl: database.url, dir: join(work, `node-${name}-${Date.now()}`), logLevel });
      teardown.add(`node ${name}`, () => node.stop());
      return node;
    },
  };
}

/** Waits until `node` reports a cluster of `count` nodes in /status. */
export async function waitForMembers(node: ClusterNode, count: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while ((await node.members().catch(() => [])).length !== count) {
    if (Date.now() > deadline) throw new Error(`${node.nodeId}: no ${count}-node cluster after ${WAIT_MS / 1000} s`);
    await sleep(200);
  }
}
