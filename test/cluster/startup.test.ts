// Joining at startup when the Hazelcast cluster is not there yet: the node serves standalone,
// says it is degraded because of Hazelcast, retries as hazelcast.startup.retry.* say, and
// joins once a member comes up. When the retries run out it stays standalone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, nodeStatus, pluginsWithCluster } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { freePort } from '../helpers/processes.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const work = mkdtempSync(join(tmpdir(), 'xmppd-cluster-startup-'));
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** A node with the plugin, clustering on, pointed at a member expected on `port`. */
async function nodeFor(name: string, clusterName: string, port: number, retry: { count: number; seconds: number }, nodeId = name): Promise<TestServer> {
  const dir = join(work, name);
  const node = await startTestServer({
    env: { XMPPD_NODE_ID: nodeId, XMPPD_PLUGINS_DIR: pluginsWithCluster(dir) },
    properties: {
      // Each attempt gives up after one second, so the retries are what the test watches.
      ...clusterProperties(dir, { clusterName, addresses: [`127.0.0.1:${port}`], connectTimeoutMs: 1000 }),
      'hazelcast.startup.retry.count': String(retry.count),
      'hazelcast.startup.retry.seconds': String(retry.seconds),
    },
  });
  cleanup.push(() => node.stop());
  return node;
}

test('no member yet: the node serves, degraded because of Hazelcast, and joins when a member comes up', async () => {
  const port = await freePort();
  const clusterName = `xmppd-startup-${process.pid}`;
  const node = await nodeFor('node-late', clusterName, port, { count: 60, seconds: 1 });
  await waitFor(async () => (await nodeStatus(node)).state === 'degraded', 15_000, 'the node to report itself degraded');
  const degraded = await nodeStatus(node);
  assert.match(degraded.reason ?? '', /Hazelcast/);
  assert.equal(degraded.cluster, undefined, 'standalone meanwhile');
  // It serves its clients all along.
  await node.addUser('alice', 'secret');
  const alice = await RawClient.login(node.c2sPort, 'alice', 'secret');
  await alice.close();

  const hazelcast: HazelcastCluster = await startHazelcastCluster({ clusterName, ports: [port] });
  cleanup.push(() => hazelcast.stop());
  await waitFor(async () => {
    const s = await nodeStatus(node);
    return s.state === 'running' && s.cluster?.members.length === 1;
  }, 30_000, 'the node to join once the member is up');
  assert.match(node.logs(), /cannot join the cluster attempt=1/);
  assert.match(node.logs(), /joined the cluster/);
});

test('when the retries run out the node stays standalone and says why in the log', async () => {
  const node = await nodeFor('node-alone', `xmppd-nobody-${process.pid}`, await freePort(), { count: 1, seconds: 1 });
  await waitFor(() => /could not join; it serves standalone/.test(node.logs()), 20_000, 'the node to give up');
  assert.match(node.logs(), /cannot join the cluster attempt=2 of=2/);
  const s = await nodeStatus(node);
  assert.equal(s.state, 'degraded');
  assert.equal(s.cluster, undefined);
});

test('a second node under the same node id is refused, and says why', async () => {
  const hazelcast = await startHazelcastCluster({ members: 1 });
  cleanup.push(() => hazelcast.stop());
  const port = Number(hazelcast.addresses[0]!.split(':')[1]);
  const first = await nodeFor('node-twin', hazelcast.clusterName, port, { count: 0, seconds: 1 });
  await waitFor(async () => (await nodeStatus(first)).cluster?.members.length === 1, 30_000, 'the first node to join');
  // Same id, its own folder (nodeFor keys folders by name: give the second one another).
  const second = await nodeFor('node-twin-2', hazelcast.clusterName, port, { count: 0, seconds: 1 }, 'node-twin');
  await waitFor(() => /node id node-twin is in use by the node at/.test(second.logs()), 30_000, 'the second node to be refused');
  assert.equal((await nodeStatus(second)).cluster, undefined);
  assert.equal((await nodeStatus(first)).cluster?.members.length, 1, 'the first node is not disturbed');
});
