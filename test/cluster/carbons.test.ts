// XEP-0280 across a cluster: two real xmppd processes on one MariaDB database, clustered
// through a real Hazelcast member, with one account's resources on both nodes. The node
// handling a message sends each copy to the enabled resource wherever it is, which it knows
// from the 'carbons' tag of that resource's route.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, nodeStatus, routeCount, startClusterNode, stopClusterTest } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';
import type { Element } from '../../server/xml/element.ts';

const CLUSTER_MS = 30_000;
const CARBONS = 'urn:xmpp:carbons:2';

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
let nodeA: TestServer;
let nodeB: TestServer;
const clients: RawClient[] = [];

const withId = (id: string) => (el: Element): boolean => el.name === 'message' && el.attrs.id === id;
const copyOf = (direction: 'sent' | 'received', id: string) => (el: Element): boolean =>
  el.name === 'message' && el.attrs.from?.includes('/') === false &&
  el.getChild(direction, CARBONS)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message')?.attrs.id === id;
/** Any message that mentions an id, original or copy. */
const about = (id: string) => (el: Element): boolean => el.name === 'message' && el.toString().includes(id);


async function login(node: TestServer, user: string, resource: string, carbons: boolean): Promise<RawClient> {
  const c = await RawClient.login(node.c2sPort, user, 'secret', { resource, presence: true });
  clients.push(c);
  if (carbons) assert.equal((await c.iq(`<iq type='set'><enable xmlns='${CARBONS}'/></iq>`)).attrs.type, 'result');
  return c;
}

/**
 * Sends numbered messages until one is copied to `watcher`: a route's tag reaches the other
 * node through the cluster a moment after the session set it.
 */
async function untilCopied(what: string, send: (id: string) => void, watcher: RawClient, direction: 'sent' | 'received', prefix: string): Promise<void> {
  const deadline = Date.now() + CLUSTER_MS;
  for (let n = 0; ; n++) {
    const id = `${prefix}${n}`;
    send(id);
    try {
      await watcher.expect(copyOf(direction, id), 500);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`no copy reached ${watcher.jid} in time: ${what}`);
    }
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-carbons-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
  nodeA = await startClusterNode(database, work, 'a', { ...clusterProperties(work, hazelcast), 'hazelcast.heartbeat.seconds': '1' });
  nodeB = await startClusterNode(database, work, 'b');
  for (const user of ['alice', 'bob']) await nodeA.addUser(user, 'secret');
  await waitFor(async () => (await nodeStatus(nodeA)).cluster?.members.length === 2, CLUSTER_MS, 'node A to see a cluster of 2');
  await waitFor(async () => (await nodeStatus(nodeB)).cluster?.members.length === 2, CLUSTER_MS, 'node B to see a cluster of 2');
});

after(() => stopClusterTest({ clients, nodes: [nodeA, nodeB], hazelcast, database, work }));

test('resources of one account on two nodes get the received and sent copies of each other\'s messages', async () => {
  const a1 = await login(nodeA, 'alice', 'a1', true);
  const b1 = await login(nodeA, 'bob', 'b1', false);
  const a2 = await login(nodeB, 'alice', 'a2', true);
  const a3 = await login(nodeB, 'alice', 'a3', false);
  const b2 = await login(nodeB, 'bob', 'b2', true);
  await waitFor(async () => (await routeCount(nodeA)) === 5 && (await routeCount(nodeB)) === 5, CLUSTER_MS, 'both nodes to know all five routes');

  // Node A handles bob's message to a1 and copies it to a2 on node B.
  await untilCopied('received, A to B', (id) => b1.send(`<message to='alice@localhost/a1' type='chat' id='${id}'><body>hi</body></message>`), a2, 'received', 'warm-r');
  b1.send(`<message to='alice@localhost/a1' type='chat' id='r1'><body>hello</body></message>`);
  assert.equal((await a1.expect(withId('r1'))).attrs.from, b1.jid);
  const received = await a2.expect(copyOf('received', 'r1'));
  assert.equal(received.attrs.from, 'alice@localhost');
  assert.equal(received.attrs.to, a2.jid);
  // bob's b2 on node B gets the sent copy of what b1 sent on node A.
  await b2.expect(copyOf('sent', 'r1'));

  // Node B handles a2's message to bob's b1 on node A: a1 (node A) gets the sent copy, b2 (node B) the received one.
  await untilCopied('sent, B to A', (id) => a2.send(`<message to='bob@localhost/b1' type='chat' id='${id}'><body>hi</body></message>`), a1, 'sent', 'warm-s');
  a2.send(`<message to='bob@localhost/b1' type='chat' id='s1'><body>back</body></message>`);
  assert.equal((await b1.expect(withId('s1'))).attrs.from, a2.jid);
  const sent = await a1.expect(copyOf('sent', 's1'));
  assert.equal(sent.attrs.from, 'alice@localhost');
  await b2.expect(copyOf('received', 's1'));

  // Each copy comes once, and never to the resource without carbons.
  assert.ok(await a2.nothing((el) => copyOf('received', 'r1')(el) || copyOf('sent', 's1')(el), 500), 'no second copy, no copy to the sender');
  assert.ok(await a1.nothing(copyOf('sent', 's1'), 100));
  assert.ok(await a3.nothing(about('r1'), 100) && await a3.nothing(about('s1'), 100), 'a3 did not enable carbons');

  // Disabled on node B, the copies from node A stop once the cluster knows.
  assert.equal((await a2.iq(`<iq type='set'><disable xmlns='${CARBONS}'/></iq>`)).attrs.type, 'result');
  await waitFor(async () => {
    const id = `off${Date.now()}`;
    b1.send(`<message to='alice@localhost/a1' type='chat' id='${id}'><body>hi</body></message>`);
    await a1.expect(withId(id));
    return a2.nothing(copyOf('received', id), 500);
  }, CLUSTER_MS, 'node A to stop copying to a2');
  b1.send(`<message to='alice@localhost/a1' type='chat' id='d1'><body>after</body></message>`);
  await a1.expect(withId('d1'));
  assert.ok(await a2.nothing(copyOf('received', 'd1'), 500));
});

test('no node logged an error', () => {
  for (const n of [nodeA, nodeB]) assert.doesNotMatch(n.logs(), / ERROR /);
});
