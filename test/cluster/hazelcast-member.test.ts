// The member harness itself: real member JVMs form one cluster, share map entries (each client
// below talks to one member only), and a crashed member leaves the other serving its data.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from 'hazelcast-client';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';

/** A unisocket client: every operation goes through `address`, whichever member owns the key. */
async function clientOf(cluster: HazelcastCluster, address: string): Promise<Client> {
  return Client.newHazelcastClient({
    clusterName: cluster.clusterName,
    network: { clusterMembers: [address], smartRouting: false },
    connectionStrategy: { connectionRetry: { clusterConnectTimeoutMillis: 10_000 } },
    properties: { 'hazelcast.logging.level': 'ERROR' },
  });
}

let cluster: HazelcastCluster;
let startMs = 0;
const clients: Client[] = [];

before(async () => {
  const t0 = Date.now();
  cluster = await startHazelcastCluster({ members: 2 });
  startMs = Date.now() - t0;
});

after(async () => {
  await Promise.all(clients.map((c) => c.shutdown()));
  await cluster?.stop();
});

test('two members form one cluster', (t) => {
  t.diagnostic(`2 member JVMs started and formed a cluster in ${startMs} ms`);
  assert.equal(cluster.members.length, 2);
  assert.deepEqual(cluster.addresses, cluster.members.map((m) => m.address));
  for (const member of cluster.members) {
    assert.ok(member.running, `${member.address} runs`);
    assert.equal(member.clusterSize(), 2);
    assert.deepEqual(member.clusterMembers().sort(), [...cluster.addresses].sort(), `${member.address} lists both members`);
  }
});

test('an entry put through one member is read through the other', async () => {
  const [a, b] = cluster.members;
  const viaA = await clientOf(cluster, a!.address);
  clients.push(viaA);
  const viaB = await clientOf(cluster, b!.address);
  clients.push(viaB);
  // Enough keys that both members own some: every entry crosses between members one way.
  const routesA = await viaA.getMap<string, string>('xmppd.test');
  for (let i = 0; i < 20; i++) await routesA.put(`user${i}@localhost/phone`, `node-${i}`);
  const routesB = await viaB.getMap<string, string>('xmppd.test');
  assert.equal(await routesB.size(), 20);
  for (let i = 0; i < 20; i++) assert.equal(await routesB.get(`user${i}@localhost/phone`), `node-${i}`);
});

test('killing one member leaves the other running with every entry', async (t) => {
  const [a, b] = cluster.members;
  const t0 = Date.now();
  await a!.kill('SIGKILL');
  assert.equal(a!.running, false);
  await b!.waitForClusterSize(1, 20_000);
  t.diagnostic(`the survivor dropped the killed member from its list in ${Date.now() - t0} ms`);
  assert.ok(b!.running);
  assert.deepEqual(b!.clusterMembers(), [b!.address]);
  // The killed member's entries come back from their backups on the survivor.
  const routes = await clients[1]!.getMap<string, string>('xmppd.test');
  assert.equal(await routes.size(), 20);
  assert.equal(await routes.get('user7@localhost/phone'), 'node-7');
});
