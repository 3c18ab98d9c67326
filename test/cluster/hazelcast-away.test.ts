// Hazelcast away for longer than the start-up retries: every member is killed, the nodes'
// clients give up reconnecting, and the nodes serve standalone, degraded, saying so in
// /status. The start-up budget does not apply to them: they keep trying to join by
// themselves, and once the members are back they are one cluster again and route to each
// other, with nobody switching clustering off and on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterProperties, friend, nodeStatus, routeCount, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import type { Element } from '../../server/xml/element.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;

let world: ClusterWorld;
before(async () => {
  world = await startClusterWorld(1);
});
after(() => world?.stop());

const clusterOf = (size: number, ...nodes: TestServer[]) => waitFor(async () => {
  for (const n of nodes) if ((await nodeStatus(n)).cluster?.members.length !== size) return false;
  return true;
}, CLUSTER_MS, `a cluster of ${size}`);

test('members gone for longer than the start-up retries: the nodes keep trying, and rejoin when the members are back', async () => {
  const a = await world.startNode('a', {
    // The client gives up 2 s into an outage; the budget (two attempts, 1 s apart) is over quickly.
    ...clusterProperties(world.work, { ...world.hazelcast, connectTimeoutMs: 2000 }),
    'hazelcast.startup.retry.count': '1',
    'hazelcast.startup.retry.seconds': '1',
    'hazelcast.rejoin.max.seconds': '2',
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
  });
  const b = await world.startNode('b');
  await clusterOf(2, a, b);
  for (const user of ['alice', 'bob', 'carol']) await a.addUser(user, `${user}-pw`);
  const storage = await a.storage();
  await storage.roster.put('alice', friend('carol@localhost'));
  await storage.roster.put('carol', friend('alice@localhost'));
  const alice = await world.login(a, 'alice', 'desk');
  const bob = await world.login(b, 'bob', 'phone');
  await waitFor(async () => (await routeCount(a)) === 2 && (await routeCount(b)) === 2, CLUSTER_MS, 'both routes on both nodes');

  const switched = await storage.properties.get('clustering.enabled');
  await Promise.all(world.hazelcast.members.map((m) => m.kill()));
  for (const node of [a, b]) {
    await waitFor(() => /the Hazelcast client gave up reconnecting/.test(node.logs()), CLUSTER_MS, 'the client to give up');
    // Well past the start-up budget of two attempts: it goes on.
    await waitFor(() => /trying to join the cluster again attempt=4/.test(node.logs()), CLUSTER_MS, 'attempts past the start-up budget');
    const away = await nodeStatus(node);
    assert.equal(away.state, 'degraded');
    assert.deepEqual([away.cluster?.enabled, away.cluster?.state], [true, 'not joined: trying again']);
    assert.ok(away.cluster?.reason, 'and why');
    assert.equal(await routeCount(node), 1, 'standalone: its own session only');
  }
  assert.doesNotMatch(a.logs() + b.logs(), /serves standalone until clustering is turned off and on again/);
  // A session that starts on a standalone node: its contact on the other node cannot hear of it yet.
  const carol = await world.login(b, 'carol', 'tablet');
  const carolAvailable = (el: Element) => el.name === 'presence' && el.attrs.from === 'carol@localhost/tablet' && el.attrs.type === undefined;
  assert.equal(await alice.nothing(carolAvailable, 1_000), true);

  await world.restartMembers();
  await clusterOf(2, a, b);
  for (const node of [a, b]) assert.match(node.logs(), /joined the cluster again/);
  await waitFor(async () => (await routeCount(a)) === 3 && (await routeCount(b)) === 3, CLUSTER_MS, 'every route on both nodes again');
  // Once joined, what each side missed is made up: carol and alice hear each other's presence.
  await alice.expect(carolAvailable, CLUSTER_MS);
  await carol.expect((el) => el.name === 'presence' && el.attrs.from === 'alice@localhost/desk' && el.attrs.type === undefined, CLUSTER_MS);
  await waitFor(async () => (await nodeStatus(a)).state === 'running' && (await nodeStatus(b)).state === 'running', CLUSTER_MS, 'both running');
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>back?</body></message>`);
  await bob.expect((el) => el.name === 'message' && el.attrs.id === 'm1', CLUSTER_MS);
  bob.send(`<message to='alice@localhost/desk' type='chat' id='m2'><body>back.</body></message>`);
  await alice.expect((el) => el.name === 'message' && el.attrs.id === 'm2', CLUSTER_MS);
  // Nobody switched clustering: it was on all along.
  assert.deepEqual(await storage.properties.get('clustering.enabled'), switched);
});
