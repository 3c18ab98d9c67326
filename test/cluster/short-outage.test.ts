// A short Hazelcast outage: every member is killed and restarted at once (empty), and the
// nodes' clients reconnect. Meanwhile one session ended on node A (its route's deletion
// could not reach the members) and one started on node B (its route could not be written).
// After the reconnection each node reconciles: it reloads the routes map into its replica,
// removes its own entries of sessions that ended, publishes its live ones again. No ghost
// route is left anywhere, and the session that started during the outage is reached from
// the other node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterProperties, nodeStatus, routeCount, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin, waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;

let world: ClusterWorld;
before(async () => {
  world = await startClusterWorld(1);
});
after(() => world?.stop());

/** The full JIDs /api/online on `node` lists, with the node holding each. */
async function online(node: TestServer): Promise<string[]> {
  const res = await admin(node.adminPort, 'GET', '/api/online');
  assert.equal(res.status, 200);
  return (res.body as { sessions: { jid: string; node: string }[] }).sessions.map((s) => `${s.jid}@${s.node}`);
}

test('all members killed and restarted quickly: no ghost route, and the session started meanwhile is reached', async () => {
  const a = await world.startNode('a', {
    // The clients keep reconnecting through the whole outage.
    ...clusterProperties(world.work, { ...world.hazelcast, connectTimeoutMs: 120_000 }),
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
    ...ADMIN_PROPERTIES,
  });
  const b = await world.startNode('b');
  await waitFor(async () => (await nodeStatus(a)).cluster?.members.length === 2 && (await nodeStatus(b)).cluster?.members.length === 2, CLUSTER_MS, 'both nodes to join');
  for (const user of ['alice', 'bob', 'carol']) await a.addUser(user, `${user}-pw`);
  await a.addUser('admin', ADMIN_USER[1]);
  const desk = await world.login(a, 'alice', 'desk');
  const old = await world.login(a, 'alice', 'old');
  await world.login(b, 'bob', 'phone');
  await waitFor(async () => (await routeCount(a)) === 3 && (await routeCount(b)) === 3, CLUSTER_MS, 'three routes on both nodes');

  await Promise.all(world.hazelcast.members.map((m) => m.kill()));
  for (const node of [a, b]) {
    await waitFor(() => /lost the connection to the Hazelcast cluster; reconnecting/.test(node.logs()), CLUSTER_MS, 'the node to notice');
    await waitFor(async () => (await nodeStatus(node)).state === 'degraded', CLUSTER_MS, 'degraded while cut off');
    assert.equal((await nodeStatus(node)).cluster?.state, 'joined, reconnecting to Hazelcast');
  }
  // During the outage: a session ends on A, one starts on B.
  await old.close();
  await waitFor(async () => !(await online(a)).includes('alice@localhost/old@node-a'), CLUSTER_MS, 'node A to drop its own ended session');
  assert.ok((await online(b)).includes('alice@localhost/old@node-a'), 'node B cannot hear of it yet');
  const carol = await world.login(b, 'carol', 'tablet');

  await world.restartMembers();
  for (const node of [a, b]) await waitFor(() => /reconnected to the Hazelcast cluster: routes reconciled/.test(node.logs()), CLUSTER_MS, 'the node to reconcile');
  const live = ['alice@localhost/desk@node-a', 'bob@localhost/phone@node-b', 'carol@localhost/tablet@node-b'];
  for (const [name, node] of [['A', a], ['B', b]] as const) {
    await waitFor(async () => JSON.stringify(await online(node)) === JSON.stringify(live), CLUSTER_MS, `exactly the live sessions in /api/online of node ${name}`).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await online(node))}`);
    });
    assert.equal(await routeCount(node), 3, 'xmppd_routes counts no ghost');
    await waitFor(async () => (await nodeStatus(node)).state === 'running', CLUSTER_MS, 'running again');
  }

  // An IQ from node A reaches the session that started on node B during the outage.
  const answered = desk.iq(`<iq type='get' to='carol@localhost/tablet' id='q1'><query xmlns='jabber:iq:version'/></iq>`, CLUSTER_MS);
  const iq = await carol.expect((el) => el.name === 'iq' && el.attrs.id === 'q1', CLUSTER_MS);
  assert.equal(iq.attrs.from, 'alice@localhost/desk');
  carol.send(`<iq type='result' to='alice@localhost/desk' id='q1'><query xmlns='jabber:iq:version'><name>raw</name><version>1</version></query></iq>`);
  const result = await answered;
  assert.deepEqual([result.attrs.type, result.attrs.from], ['result', 'carol@localhost/tablet']);
});
