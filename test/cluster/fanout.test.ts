// One stanza to many recipients across a cluster, and the node list services place state
// by: two real xmppd processes on one MariaDB database, clustered through a real Hazelcast
// member. A PEP item published on node a for eight resources on node b crosses the link in
// one deliver-each frame (counted by /metrics), and each resource gets one copy addressed to
// it. A small plugin on each node records cluster/members-changed and Kernel.clusterNodes(),
// so the test sees both nodes hear node b join, both go standalone and come back when
// clustering is switched off and on, and node a hear node b leave.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, framesSent, friend, metric, nodeStatus, startClusterNode, stopClusterTest } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';
import { capsVer, onlineWithCaps, eventContent, publishIq } from '../helpers/pep-client.ts';

const CLUSTER_MS = 30_000;
const TUNE = 'http://jabber.org/protocol/tune';
const FEATURES = ['http://jabber.org/protocol/caps', `${TUNE}+notify`];
const CONTACTS = ['bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];

// Records what the node's modules hear of the node list.
const WATCHER = `export default {
  load(ctx) {
    const changes = [];
    ctx.hook('cluster/members-changed', (e) => { changes.push(e.nodes); });
    ctx.httpRoute({ method: 'GET', path: '/nodes', handler: () => ({ nodes: ctx.kernel.clusterNodes(), changes }) });
  },
};
`;

interface Watched {
  nodes: string[];
  changes: string[][];
}

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
const nodes: (TestServer | null)[] = [];
const clients: RawClient[] = [];

async function startNode(name: string, properties?: Record<string, string>): Promise<TestServer> {
  const plugin = join(work, name, 'plugins', 'members-watch');
  mkdirSync(plugin, { recursive: true });
  writeFileSync(join(plugin, 'plugin.json'), JSON.stringify({ name: 'members-watch', version: '1.0.0', kind: 'feature', main: 'index.js' }));
  writeFileSync(join(plugin, 'index.js'), WATCHER);
  const server = await startClusterNode(database, work, name, properties);
  nodes.push(server);
  return server;
}

async function watched(node: TestServer): Promise<Watched> {
  const res = await fetch(`http://127.0.0.1:${node.httpPort}/plugins/members-watch/nodes`);
  assert.equal(res.status, 200);
  return (await res.json()) as Watched;
}

/** Waits until the node's modules saw `changes` and clusterNodes() is the last of them. */
async function sawChanges(node: TestServer, changes: string[][], what: string): Promise<void> {
  let last: Watched | null = null;
  try {
    await waitFor(async () => {
      last = await watched(node);
      return JSON.stringify(last.changes) === JSON.stringify(changes) || null;
    }, CLUSTER_MS, what);
  } catch (err) {
    throw new Error(`${what}: saw ${JSON.stringify(last)}`, { cause: err });
  }
  assert.deepEqual(last!.nodes, changes.at(-1));
  // /status has a cluster object only while clustering is on.
  const cluster = (await nodeStatus(node)).cluster as { nodes?: string[] } | undefined;
  if (cluster) assert.deepEqual(cluster.nodes, changes.at(-1));
}

const online = (node: TestServer, user: string, resource: string): Promise<RawClient> => onlineWithCaps(node.c2sPort, user, resource, FEATURES, clients);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-fanout-cluster-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
});

after(() => stopClusterTest({ clients, nodes, hazelcast, database, work }));

test('both nodes hear the second node join, with the same sorted list', async () => {
  const a = await startNode('a', clusterProperties(work, hazelcast));
  await waitFor(async () => (await nodeStatus(a)).cluster?.state === 'joined', CLUSTER_MS, 'node a joined');
  // Joining a cluster of itself alone changes nothing: still only itself.
  assert.deepEqual(await watched(a), { nodes: ['node-a'], changes: [] });
  const b = await startNode('b');
  await sawChanges(a, [['node-a', 'node-b']], 'node a hears node b join');
  await sawChanges(b, [['node-a', 'node-b']], 'node b joins a cluster with node a');
});

test('one notification for eight resources on the other node crosses the link once; each resource gets one copy addressed to it', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  for (const user of ['alice', ...CONTACTS]) await a.addUser(user, `${user}-pw`);
  const storage = await a.storage();
  for (const contact of CONTACTS) {
    await storage.roster.put('alice', friend(`${contact}@localhost`));
    await storage.roster.put(contact, friend('alice@localhost'));
  }
  const far = [...await Promise.all(CONTACTS.map((c) => online(b, c, 'phone'))), await online(b, 'alice', 'laptop')];
  const alice = await online(a, 'alice', 'desk');
  await waitFor(async () => (await storage.caps.get(`sha-1 ${capsVer(FEATURES)}`)) !== null, 10_000, 'the caps in the shared cache');
  // Node a's replica has every route of node b, with the presence that carries the caps.
  const farJids = [...CONTACTS.map((c) => `${c}@localhost/phone`), 'alice@localhost/laptop'];
  await waitFor(async () => (await metric(a, 'xmppd_routes')) === farJids.length + 1, 10_000, 'node a sees every route');
  // Presence and caps traffic settles before the frames are counted.
  await new Promise((r) => setTimeout(r, 1_500));
  const start = { each: await framesSent(a, 'deliver-each'), one: await framesSent(a, 'deliver'), acks: await framesSent(b, 'each-ack') };

  const isTune = (el: { name: string; getChild(n: string, ns?: string): unknown }): boolean => el.name === 'message' && !!el.getChild('event', 'http://jabber.org/protocol/pubsub#event');
  const copies = far.map((c) => c.expect(isTune, 10_000));
  const own = alice.expect(isTune, 10_000);
  const published = await alice.iq(publishIq(TUNE, 'now', `<tune xmlns='${TUNE}'><title>Fanfare</title></tune>`));
  assert.equal(published.attrs.type, 'result');
  const got = await Promise.all(copies);
  got.forEach((message, i) => {
    assert.equal(message.attrs.to, farJids[i], 'addressed to the resource that got it');
    assert.equal(message.attrs.from, 'alice@localhost');
    assert.equal(message.attrs.type, 'headline');
    assert.equal(eventContent(message).getChild('item')!.getChild('tune')!.getChildText('title'), 'Fanfare');
  });
  assert.equal((await own).attrs.to, 'alice@localhost/desk');
  for (const [i, c] of far.entries()) assert.ok(await c.nothing(isTune, 300), `${farJids[i]} got a second copy`);

  assert.equal(await framesSent(a, 'deliver-each') - start.each, 1, 'one deliver-each frame for the eight resources');
  assert.equal(await framesSent(a, 'deliver') - start.one, 0, 'no single deliveries');
  assert.equal(await framesSent(b, 'each-ack') - start.acks, 1, 'answered with one each-ack');
});

test('clustering switched off and on: both nodes go standalone and come back; a node that leaves is heard of', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  const joined = ['node-a', 'node-b'];
  await a.setProperty('clustering.enabled', 'false');
  await sawChanges(a, [joined, ['node-a']], 'node a standalone');
  await sawChanges(b, [joined, ['node-b']], 'node b standalone');
  await a.setProperty('clustering.enabled', 'true');
  await sawChanges(a, [joined, ['node-a'], joined], 'node a clustered again');
  await sawChanges(b, [joined, ['node-b'], joined], 'node b clustered again');
  await b.stop();
  nodes[1] = null;
  await sawChanges(a, [joined, ['node-a'], joined, ['node-a']], 'node a hears node b leave');
});
