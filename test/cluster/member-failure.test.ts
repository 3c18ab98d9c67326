// The Hazelcast side failing under two clustered xmppd nodes: with two members, killing one
// loses no route (each entry has a backup on the other member) and the nodes keep routing
// to each other, including for sessions that log in after the failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';

const PLUGIN = fileURLToPath(new URL('../../plugins/hazelcast/', import.meta.url));
const CLUSTER_MS = 30_000;

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

async function routes(node: TestServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
  return Number(/^xmppd_routes (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function members(node: TestServer): Promise<number> {
  const status = (await (await fetch(`http://127.0.0.1:${node.httpPort}/status`)).json()) as { cluster?: { members: unknown[] } };
  return status.cluster?.members.length ?? 0;
}

before(async () => {
  assert.ok(existsSync(join(PLUGIN, 'index.js')), 'plugins/hazelcast/index.js is missing: npm install (or npm run prepare) bundles it');
  work = mkdtempSync(join(tmpdir(), 'xmppd-member-failure-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 2 }), createTestDatabase('mysql')]);
  writeFileSync(join(work, 'client.xml'), `<hazelcast-client>
  <cluster-name>${hazelcast.clusterName}</cluster-name>
  <network><cluster-members>${hazelcast.addresses.map((a) => `<address>${a}</address>`).join('')}</cluster-members></network>
</hazelcast-client>`);
  for (const name of ['a', 'b']) {
    const plugins = join(work, `plugins-${name}`, 'hazelcast');
    mkdirSync(plugins, { recursive: true });
    for (const file of ['plugin.json', 'index.js']) copyFileSync(join(PLUGIN, file), join(plugins, file));
    nodes.push(await startTestServer({
      dialect: 'mysql',
      database,
      env: { XMPPD_NODE_ID: `node-${name}`, XMPPD_PLUGINS_DIR: join(work, `plugins-${name}`) },
      properties: name === 'a' ? {
        'clustering.enabled': 'true',
        'hazelcast.startup.delay.seconds': '0',
        'hazelcast.config.xml.directory': work,
        'hazelcast.config.xml.filename': 'client.xml',
        'hazelcast.link.port': '0',
      } : undefined,
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
  await waitFor(async () => (await members(a)) === 2 && (await members(b)) === 2, CLUSTER_MS, 'both nodes to join');
  const alice = await RawClient.login(a.c2sPort, 'alice', 'alice-pw', { resource: 'desk' });
  const bob = await RawClient.login(b.c2sPort, 'bob', 'bob-pw', { resource: 'phone' });
  clients.push(alice, bob);
  await waitFor(async () => (await routes(a)) === 2 && (await routes(b)) === 2, CLUSTER_MS, 'both routes on both nodes');

  await hazelcast.members[0]!.kill();
  // Both nodes still see each other and both routes, from the surviving member's copies.
  await waitFor(async () => (await members(a)) === 2 && (await members(b)) === 2, CLUSTER_MS, 'the cluster to hold');
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>still there?</body></message>`);
  await bob.expect((el) => el.attrs.id === 'm1', CLUSTER_MS);

  // A session that starts after the failure is published through the surviving member.
  const carol = await RawClient.login(b.c2sPort, 'carol', 'carol-pw', { resource: 'tablet' });
  clients.push(carol);
  await waitFor(async () => (await routes(a)) === 3, CLUSTER_MS, 'node A to learn carol\'s route');
  alice.send(`<message to='carol@localhost/tablet' type='chat' id='m2'><body>welcome</body></message>`);
  await carol.expect((el) => el.attrs.id === 'm2', CLUSTER_MS);
});
