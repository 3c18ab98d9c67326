// The message archive across a cluster: two real xmppd processes on one MariaDB database,
// clustered through a real Hazelcast member. A message between users on different nodes is
// archived once for each side, by the node that routes it (the sender's), and the id the
// recipient sees live on the other node is the one its archive holds. Preferences changed
// through one node apply at once on the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, nodeStatus, routeCount, startClusterNode, stopClusterTest } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { mamQuery, NS_MAM, stanzaId } from '../helpers/mam-client.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';
import type { Element } from '../../server/xml/element.ts';

const CLUSTER_MS = 30_000;

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

async function startNode(name: string, properties?: Record<string, string>): Promise<TestServer> {
  const server = await startClusterNode(database, work, name, properties);
  nodes.push(server);
  return server;
}

async function login(node: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.login(node.c2sPort, user, 'secret', { resource, presence: true });
  clients.push(c);
  return c;
}

const chat = (body: string) => (el: Element): boolean => el.name === 'message' && el.getChildText('body') === body;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-cluster-mam-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
  const a = await startNode('a', clusterProperties(work, hazelcast));
  await startNode('b');
  for (const user of ['alice', 'bob']) await a.addUser(user, 'secret');
  for (const node of nodes) {
    await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of two');
  }
});

after(() => stopClusterTest({ clients, nodes, hazelcast, database, work }));

test('a message between nodes is archived once on each side, with the id the recipient saw', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  const alice = await login(a, 'alice', 'desk');
  await waitFor(async () => (await routeCount(b)) >= 1, CLUSTER_MS, 'node B to learn alice\'s route');
  const bob = await login(b, 'bob', 'phone');
  await waitFor(async () => (await routeCount(a)) >= 2, CLUSTER_MS, 'node A to learn bob\'s route');

  alice.send(`<message to='bob@localhost' type='chat'><body>bare, A to B</body></message>`);
  alice.send(`<message to='bob@localhost/phone' type='chat'><body>full, A to B</body></message>`);
  const atBob = [await bob.expect(chat('bare, A to B')), await bob.expect(chat('full, A to B'))];
  // Only after node A has written them: an archive's order is the order rows are written,
  // and two nodes writing at once have none between them (the first rows for new names
  // wait for their numbers, migration 0010). Alice's query waits for node A's pending rows.
  await mamQuery(alice);
  bob.send(`<message to='alice@localhost/desk' type='chat'><body>full, B to A</body></message>`);
  const atAlice = await alice.expect(chat('full, B to A'));
  const bobIds = atBob.map((m) => stanzaId(m, 'bob@localhost'));
  const aliceId = stanzaId(atAlice, 'alice@localhost');
  assert.ok(bobIds.every(Boolean) && aliceId, 'every received message carries its archive id');

  // Read on the recipient's node: what the sender's node archived is in the shared database.
  const bobs = await waitFor(async () => {
    const answer = await mamQuery(bob);
    return answer.ids.length === 3 ? answer : null;
  }, 10_000, "bob's archive to hold three messages");
  assert.deepEqual(bobs.bodies, ['bare, A to B', 'full, A to B', 'full, B to A']);
  assert.deepEqual(bobs.ids.slice(0, 2), bobIds);
  const alices = await mamQuery(alice);
  assert.deepEqual(alices.bodies, ['bare, A to B', 'full, A to B', 'full, B to A']);
  assert.equal(alices.ids[2], aliceId);

  // Exactly one row per message and side, whichever node looked.
  const storage = await a.storage();
  const rows = await storage.knex('mam_entries').join('mam_names', 'mam_names.id', 'mam_entries.archive').select('mam_names.name as owner', 'outgoing');
  const tally = (owner: string, outgoing: boolean): number => rows.filter((r) => r.owner === owner && Boolean(r.outgoing) === outgoing).length;
  assert.deepEqual([tally('alice', true), tally('alice', false), tally('bob', true), tally('bob', false)], [2, 1, 1, 2]);
});

test('preferences set through one node apply at once to messages archived by the other', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  const alice = clients[0]!;
  const bob = clients[1]!;
  assert.ok(a && b);
  // Node A has bob's preferences cached from the first test; bob changes them through node B.
  const set = await bob.iq(`<iq type='set'><prefs xmlns='${NS_MAM}' default='always'><never><jid>alice@localhost</jid></never></prefs></iq>`);
  assert.equal(set.attrs.type, 'result', String(set));
  // The change reaches node A through the cluster; until then node A may still archive.
  await waitFor(async () => {
    alice.send(`<message to='bob@localhost' type='chat'><body>probe</body></message>`);
    const probe = await bob.expect(chat('probe'));
    return stanzaId(probe, 'bob@localhost') === undefined;
  }, 5_000, 'node A to follow bob\'s new preferences');
  alice.send(`<message to='bob@localhost' type='chat'><body>not archived</body></message>`);
  const m = await bob.expect(chat('not archived'));
  assert.equal(stanzaId(m, 'bob@localhost'), undefined);
  assert.ok(!(await mamQuery(bob)).bodies.includes('not archived'));
  assert.ok((await mamQuery(alice)).bodies.includes('not archived'), "alice's own archive follows hers");
});
