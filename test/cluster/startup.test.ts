// Joining at startup when the Hazelcast cluster is not there yet: the node refuses logins,
// paused because of Hazelcast, retries as hazelcast.startup.retry.* say, and opens once a
// member comes up and it has joined. When the retries run out it serves standalone, degraded,
// and keeps trying until it joins.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterNodeEnv, clusterProperties, metric, nodeStatus, readiness, routeCount, trySasl } from './cluster-fixture.ts';
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
    env: clusterNodeEnv(dir, nodeId),
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

test('no member yet: the starting node refuses logins, paused because of Hazelcast, and opens once it has joined', async () => {
  const port = await freePort();
  const clusterName = `xmppd-startup-${process.pid}`;
  const node = await nodeFor('node-late', clusterName, port, { count: 60, seconds: 1 });
  await node.addUser('alice', 'secret');
  // From the first client on: nobody logs in to a node that does not know the cluster yet.
  const paused = await nodeStatus(node);
  assert.equal(paused.state, 'paused');
  assert.equal(paused.reason, 'The following dependent services are unavailable: Hazelcast');
  const hazelcastDependency = paused.dependencies.find((d) => d.name === 'Hazelcast');
  assert.deepEqual([hazelcastDependency?.critical, hazelcastDependency?.available], [true, false], 'critical while starting');
  assert.equal(paused.cluster?.enabled, true, 'the cluster object is there while the node cannot join');
  assert.match(paused.cluster?.state ?? '', /joining/);
  await waitFor(async () => /ECONNREFUSED|Unable to connect|connect/i.test((await nodeStatus(node)).cluster?.reason ?? ''), 15_000, 'the reason of the failed attempt in /status');
  assert.deepEqual(await readiness(node), { status: 503, body: { ready: false, state: 'paused', reason: paused.reason } });
  assert.equal(await trySasl(node, 'alice', 'secret'), 'temporary-auth-failure');
  assert.equal(await metric(node, 'xmppd_cluster_enabled'), 1);

  const hazelcast: HazelcastCluster = await startHazelcastCluster({ clusterName, ports: [port] });
  cleanup.push(() => hazelcast.stop());
  await waitFor(async () => {
    const s = await nodeStatus(node);
    return s.state === 'running' && s.cluster?.members.length === 1;
  }, 30_000, 'the node to join once the member is up');
  assert.equal((await readiness(node)).status, 200);
  const alice = await RawClient.login(node.c2sPort, 'alice', 'secret');
  await alice.close();
  assert.match(node.logs(), /cannot join the cluster attempt=1/);
  assert.match(node.logs(), /joined the cluster/);
  assert.doesNotMatch(node.logs(), /WARN .*degraded/, 'paused, then running: never degraded on the way');
});

test('when the start-up retries run out the node serves standalone, degraded, and keeps trying until it joins', async () => {
  const port = await freePort();
  const clusterName = `xmppd-nobody-${process.pid}`;
  const node = await nodeFor('node-alone', clusterName, port, { count: 1, seconds: 1 });
  await waitFor(() => /could not join within its start-up retries; it serves standalone \(degraded\) and keeps trying/.test(node.logs()), 20_000, 'the node to give up');
  assert.match(node.logs(), /cannot join the cluster attempt=2 of=2/);
  await waitFor(async () => (await nodeStatus(node)).state === 'degraded', 10_000, 'degraded once the budget is spent');
  const s = await nodeStatus(node);
  assert.equal(s.reason, 'The following dependent services are unavailable: Hazelcast');
  assert.equal(s.cluster?.enabled, true);
  assert.match(s.cluster?.state ?? '', /not joined/);
  assert.ok(s.cluster?.reason, 'the reason it cannot join');
  assert.equal((await readiness(node)).status, 200, 'degraded nodes take clients');
  await node.addUser('bob', 'secret');
  const bob = await RawClient.login(node.c2sPort, 'bob', 'secret');
  // Attempts go on past the budget, further apart each time.
  await waitFor(() => /cannot join the cluster attempt=4 /.test(node.logs()), 20_000, 'attempts past the budget');

  const hazelcast = await startHazelcastCluster({ clusterName, ports: [port] });
  cleanup.push(() => hazelcast.stop());
  await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 1, 60_000, 'the node to join by itself');
  assert.match(node.logs(), /joined the cluster again/);
  await waitFor(async () => (await nodeStatus(node)).state === 'running', 10_000, 'running once joined');
  assert.equal(await routeCount(node), 1, 'bob, connected all along, is published');
  await bob.close();
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
  const refused = (await nodeStatus(second)).cluster;
  assert.deepEqual(refused?.members, [], 'not joined');
  assert.match(refused?.reason ?? '', /node id node-twin is in use by the node at/, '/status says why');
  assert.equal((await nodeStatus(first)).cluster?.members.length, 1, 'the first node is not disturbed');
});
