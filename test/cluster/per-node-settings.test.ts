// What differs from node to node comes from each node's own configuration file, not from the
// system properties every node shares: two nodes on one host listen for cluster links on the
// ports their files name and read the Hazelcast client configuration their files name, and
// route to each other. A node whose file leaves the link port out still reads the old,
// deprecated property, and says so in its log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { clusterProperties, nodeStatus, routeCount, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import { freePort } from '../helpers/processes.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;

let world: ClusterWorld;
before(async () => {
  world = await startClusterWorld(1);
});
after(() => world?.stop());

/** A configuration file for one node: its cluster section, the rest from the environment. */
function nodeFile(name: string, cluster: string): Record<string, string> {
  const file = join(world.work, `${name}.yml`);
  writeFileSync(file, `# node ${name}\ncluster:\n${cluster}`);
  // An empty variable counts as unset: the file's value is the one read.
  return { XMPPD_CONFIG: file, XMPPD_CLUSTER_LINK_PORT: '' };
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function addressesSeenBy(node: TestServer): Promise<Record<string, string>> {
  const members = (await nodeStatus(node)).cluster?.members ?? [];
  return Object.fromEntries(members.map((m) => [m.nodeId, m.address]));
}

test('two nodes on one host take their link ports and client configuration from their own files', async () => {
  // The client configuration only the files name: the shared properties point at nothing.
  clusterProperties(join(world.work, 'own'), world.hazelcast);
  const clientXml = join(world.work, 'own', 'client.xml');
  const [portA, portB, legacyPort] = [await freePort(), await freePort(), await freePort()];
  const shared = {
    ...clusterProperties(join(world.work, 'shared'), world.hazelcast),
    'hazelcast.config.xml.directory': join(world.work, 'nowhere'),
    // The deprecated, cluster-wide property: every node that reads it takes the same port.
    'hazelcast.link.port': String(legacyPort),
  };

  const a = await world.startNode('a', shared, nodeFile('a', `  link:\n    host: 127.0.0.1\n    port: ${portA}\n  config_file: ${clientXml}\n`));
  const b = await world.startNode('b', undefined, nodeFile('b', `  link:\n    port: ${portB}\n  config_file: ${clientXml}\n`));
  await waitFor(async () => (await nodeStatus(a)).cluster?.members.length === 2 && (await nodeStatus(b)).cluster?.members.length === 2, CLUSTER_MS, 'both nodes to join');
  const expected = { 'node-a': `127.0.0.1:${portA}`, 'node-b': `127.0.0.1:${portB}` };
  assert.deepEqual(await addressesSeenBy(a), expected);
  assert.deepEqual(await addressesSeenBy(b), expected);
  assert.ok(await listening(portA) && await listening(portB), 'each link listens where its file says');
  assert.equal(await listening(legacyPort), false, 'the shared property is not used by a node whose file sets the port');
  for (const node of [a, b]) assert.doesNotMatch(node.logs(), /deprecated/);

  // They route to each other over those links.
  for (const user of ['alice', 'bob']) await a.addUser(user, `${user}-pw`);
  const alice = await world.login(a, 'alice', 'desk');
  const bob = await world.login(b, 'bob', 'phone');
  await waitFor(async () => (await routeCount(a)) === 2 && (await routeCount(b)) === 2, CLUSTER_MS, 'both sessions known to both nodes');
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>over link ${portB}</body></message>`);
  await bob.expect((el) => el.name === 'message' && el.attrs.id === 'm1', CLUSTER_MS);
  bob.send(`<message to='alice@localhost/desk' type='chat' id='m2'><body>over link ${portA}</body></message>`);
  await alice.expect((el) => el.name === 'message' && el.attrs.id === 'm2', CLUSTER_MS);

  // A node whose file leaves the port out falls back to the property, and warns.
  const c = await world.startNode('c', undefined, nodeFile('c', `  config_file: ${clientXml}\n`));
  await waitFor(async () => (await nodeStatus(c)).cluster?.members.length === 3, CLUSTER_MS, 'node C to join');
  assert.equal((await addressesSeenBy(a))['node-c'], `127.0.0.1:${legacyPort}`);
  assert.match(c.logs(), /the system property hazelcast\.link\.port is deprecated: it is shared by every node; set cluster\.link\.port in this node's configuration file \(or XMPPD_CLUSTER_LINK_PORT\) instead/);
});
