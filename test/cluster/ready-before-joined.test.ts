// A node that starts into a running cluster is not ready before it has joined: during the
// startup delay and its attempt to join it answers /readyz 503, says why in /status and
// refuses logins with <temporary-auth-failure/>, so that no client of it meets a server that
// knows nobody on the other nodes. Once joined, what it learnt (the other node's sessions and
// their presence) reaches the first client that logs in, and that client reaches them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterProperties, friend, metric, nodeStatus, readiness, startClusterWorld, trySasl, type ClusterWorld } from './cluster-fixture.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;
const DELAY_SECONDS = 5;

let world: ClusterWorld;
before(async () => {
  world = await startClusterWorld(1);
});
after(() => world?.stop());

test('a starting node takes no login before it has joined; then its first client sees, and reaches, the other node', async () => {
  const a = await world.startNode('a', clusterProperties(world.work, world.hazelcast));
  for (const user of ['alice', 'bob']) await a.addUser(user, `${user}-pw`);
  const storage = await a.storage();
  await storage.roster.put('alice', friend('bob@localhost'));
  await storage.roster.put('bob', friend('alice@localhost'));
  await waitFor(async () => (await readiness(a)).status === 200, CLUSTER_MS, 'node A to join and be ready');
  const bob = await world.login(a, 'bob', 'phone');

  // Read at start by node B only (A has started already).
  await a.setProperty('hazelcast.startup.delay.seconds', String(DELAY_SECONDS));
  const b = await world.startNode('b');
  const waiting = await nodeStatus(b);
  assert.equal(waiting.state, 'paused');
  assert.equal(waiting.reason, 'The following dependent services are unavailable: Hazelcast');
  assert.deepEqual([waiting.cluster?.enabled, waiting.cluster?.state, waiting.cluster?.members], [true, 'waiting for the startup delay', []]);
  assert.deepEqual(await readiness(b), { status: 503, body: { ready: false, state: 'paused', reason: waiting.reason } });
  assert.equal(await trySasl(b, 'alice', 'alice-pw'), 'temporary-auth-failure');
  assert.equal(await metric(b, 'xmppd_cluster_enabled'), 1, 'clustering is on, joined or not');
  assert.equal(await metric(b, 'xmppd_cluster_members'), 1, 'it sees itself alone');
  assert.equal((await nodeStatus(b)).cluster?.state, 'waiting for the startup delay', 'all of that within the startup delay');

  await waitFor(async () => (await readiness(b)).status === 200, CLUSTER_MS, 'node B to be ready');
  // Timed by the node's own log: from the start of the delay to the join.
  const at = (pattern: RegExp): number => Date.parse(b.logs().split('\n').find((l) => pattern.test(l))?.slice(0, 24) ?? '');
  const waited = at(/joined the cluster/) - at(/joining after the startup delay/);
  assert.ok(waited >= DELAY_SECONDS * 1000, `joined ${waited} ms after the delay began`);
  const joined = await nodeStatus(b);
  assert.deepEqual([joined.state, joined.cluster?.state, joined.cluster?.members.map((m) => m.nodeId)], ['running', 'joined', ['node-a', 'node-b']]);
  assert.equal(await metric(b, 'xmppd_cluster_members'), 2);

  // The first client of node B: bob's presence (known from the routes) reaches it, its own reaches bob.
  const alice = await world.login(b, 'alice', 'desk');
  await alice.expect((el) => el.name === 'presence' && el.attrs.from === 'bob@localhost/phone' && el.attrs.type === undefined, CLUSTER_MS);
  await bob.expect((el) => el.name === 'presence' && el.attrs.from === 'alice@localhost/desk' && el.attrs.type === undefined, CLUSTER_MS);
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>hello from B</body></message>`);
  await bob.expect((el) => el.name === 'message' && el.attrs.id === 'm1' && el.attrs.from === 'alice@localhost/desk', CLUSTER_MS);
});
