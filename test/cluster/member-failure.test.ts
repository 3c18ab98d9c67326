// The Hazelcast side failing under two clustered xmppd nodes: with two members, killing one
// loses no route (each entry has a backup on the other member) and the nodes keep routing
// to each other, including for sessions that log in after the failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterNodeEnv, clusterProperties, clusterSize, routeCount } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-member-failure-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 2 }), createTestDatabase('mysql')]);
  const properties = clusterProperties(work, hazelcast);
  for (const name of ['a', 'b']) {
    nodes.push(await startTestServer({
      dialect: 'mysql',
      database,
      env: clusterNodeEnv(join(work, name), `node-${name}`),
      // Stored in the shared database: the second node reads what the first one stored.
      properties: name === 'a' ? properties : undefined,
    }));
  }
  for (const user of ['alice', 'bob', 'carol']) await nodes[0]!.addUser(user, `${user}-pw`);
});

after(async () => {
  for (const c of clients) c.destroy();
  for (const n of nodes) await n.stop().catch(() => undefined);
  await hazelcast?.stop();
  await database?.drop();
  rmSync(work, { recursive: true, force: true });
});

test('a Hazelcast member dies: no route is lost and the nodes keep routing to each other', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  await waitFor(async () => (await clusterSize(a)) === 2 && (await clusterSize(b)) === 2, CLUSTER_MS, 'both nodes to join');
  const alice = await RawClient.login(a.c2sPort, 'alice', 'alice-pw', { resource: 'desk' });
  const bob = await RawClient.login(b.c2sPort, 'bob', 'bob-pw', { resource: 'phone' });
  clients.push(alice, bob);
  await waitFor(async () => (await routeCount(a)) === 2 && (await routeCount(b)) === 2, CLUSTER_MS, 'both routes on both nodes');

  await hazelcast.members[0]!.kill();
  // Both nodes still see each other and both routes, from the surviving member's copies.
  await waitFor(async () => (await clusterSize(a)) === 2 && (await clusterSize(b)) === 2, CLUSTER_MS, 'the cluster to hold');
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>still there?</body></message>`);
  await bob.expect((el) => el.attrs.id === 'm1', CLUSTER_MS);

  // A session that starts after the failure is published through the surviving member.
  const carol = await RawClient.login(b.c2sPort, 'carol', 'carol-pw', { resource: 'tablet' });
  clients.push(carol);
  await waitFor(async () => (await routeCount(a)) === 3, CLUSTER_MS, 'node A to learn carol\'s route');
  alice.send(`<message to='carol@localhost/tablet' type='chat' id='m2'><body>welcome</body></message>`);
  await carol.expect((el) => el.attrs.id === 'm2', CLUSTER_MS);
});
