// PEP across a cluster: two real xmppd processes on one MariaDB database, clustered through
// a real Hazelcast member. The publisher is on one node, the contact (and another resource
// of the publisher) on the other: the node the contact is on learns its caps and stores them
// in the shared cache, the publisher's node reads them from there through the contact's
// route, and the notification crosses the cluster link. A new avatar's hash reaches the
// presence of the owner's resources on the other node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, friend, nodeStatus, startClusterNode, stopClusterTest } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';
import { capsVer, onlineWithCaps, eventContent, expectEvent, publishIq } from '../helpers/pep-client.ts';

const CLUSTER_MS = 30_000;
const GEOLOC = 'http://jabber.org/protocol/geoloc';
const FEATURES = ['http://jabber.org/protocol/caps', `${GEOLOC}+notify`];

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

const online = (node: TestServer, user: string, resource: string): Promise<RawClient> => onlineWithCaps(node.c2sPort, user, resource, FEATURES, clients);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-pep-cluster-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
  const a = await startNode('a', clusterProperties(work, hazelcast));
  const b = await startNode('b');
  for (const user of ['alice', 'bob']) await a.addUser(user, `${user}-pw`);
  const storage = await a.storage();
  await storage.roster.put('alice', friend('bob@localhost'));
  await storage.roster.put('bob', friend('alice@localhost'));
  for (const node of [a, b]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of 2');
});

after(() => stopClusterTest({ clients, nodes, hazelcast, database, work }));

test('a publication on one node reaches the contact and the owner\'s other resource on the other node; the last item too', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  const bob = await online(b, 'bob', 'phone');
  const alice2 = await online(b, 'alice', 'laptop');
  const alice = await online(a, 'alice', 'desk');
  const storage = await a.storage();
  // Node b asked its sessions; what they answered is in the shared cache.
  await waitFor(async () => (await storage.caps.get(`sha-1 ${capsVer(FEATURES)}`)) !== null, 10_000, 'the caps in the shared cache');
  // Routes (with the presence carrying the caps) reach node a's replica through entry events.
  await new Promise((r) => setTimeout(r, 1_000));

  const toBob = expectEvent(bob, GEOLOC, 10_000);
  const toAlice2 = expectEvent(alice2, GEOLOC, 10_000);
  const toAlice = expectEvent(alice, GEOLOC, 10_000);
  const published = await alice.iq(publishIq(GEOLOC, 'here', `<geoloc xmlns='${GEOLOC}'><locality>Verona</locality></geoloc>`));
  assert.equal(published.attrs.type, 'result');
  for (const message of [await toBob, await toAlice2, await toAlice]) {
    assert.equal(message.attrs.from, 'alice@localhost');
    assert.equal(eventContent(message).getChild('item')!.getChild('geoloc')!.getChildText('locality'), 'Verona');
  }

  // A resource of bob's connecting to node a gets the last item from there.
  const bob2 = await online(a, 'bob', 'tablet');
  const last = await expectEvent(bob2, GEOLOC, 10_000);
  assert.equal(eventContent(last).getChild('item')!.attrs.id, 'here');

  // XEP-0398 across nodes: an avatar published on node a puts its hash in the presence of
  // alice's resource on node b too.
  const bytes = Buffer.from('an avatar of alice');
  const hash = createHash('sha1').update(bytes).digest('hex');
  await alice.iq(publishIq('urn:xmpp:avatar:data', hash, `<data xmlns='urn:xmpp:avatar:data'>${bytes.toString('base64')}</data>`));
  const fromLaptop = bob.expect((el) => el.name === 'presence' && el.attrs.from === 'alice@localhost/laptop' && el.getChild('x', 'vcard-temp:x:update')?.getChildText('photo') === hash, 10_000);
  await alice.iq(publishIq('urn:xmpp:avatar:metadata', hash, `<metadata xmlns='urn:xmpp:avatar:metadata'><info id='${hash}' bytes='${bytes.length}' type='image/png'/></metadata>`));
  await fromLaptop;
});
