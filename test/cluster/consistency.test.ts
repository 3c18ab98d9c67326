// The cluster data consistency check and its repair, through the admin API, against two real
// xmppd processes, a real Hazelcast member and MariaDB: a clean cluster reports nothing; a
// route removed from the shared map behind a node's back (as a lost write during an outage
// leaves it) is reported as unpublished by its node and as missed nowhere else, and an entry
// naming a node for a session it does not have as stale; a repair makes both whole again.
// `xmppd cluster status|check|repair` say the same from the node's machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from 'hazelcast-client';
import { clusterProperties, nodeStatus, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin, waitFor } from '../plugins/fixtures.ts';
import { cliSandbox, runCli } from '../cli/run-cli.ts';

const CLUSTER_MS = 30_000;
let world: ClusterWorld;
let a: TestServer;
let b: TestServer;
let hazelcast: Client;

interface Report { node: string; repaired: boolean; counts: Record<string, number>; differences: Record<string, string[]>; error?: string }
const check = async (node: TestServer, repair = false): Promise<Report[]> => {
  const res = await admin(node.adminPort, repair ? 'POST' : 'GET', `/api/cluster/consistency${repair ? '/repair' : ''}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { nodes: Report[] }).nodes;
};
const nonZero = (reports: Report[]): Record<string, Record<string, number>> =>
  Object.fromEntries(reports.map((r) => [r.node, Object.fromEntries(Object.entries(r.counts).filter(([, n]) => n > 0))]));

before(async () => {
  world = await startClusterWorld(1);
  a = await world.startNode('a', { ...clusterProperties(join(world.work, 'config'), world.hazelcast), ...ADMIN_PROPERTIES });
  b = await world.startNode('b');
  for (const user of ['alice', 'bob']) await a.addUser(user, `${user}-pw`);
  await a.addUser('admin', ADMIN_USER[1]);
  for (const node of [a, b]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of two');
  hazelcast = await Client.newHazelcastClient({ clusterName: world.hazelcast.clusterName, network: { clusterMembers: world.hazelcast.addresses } });
});

after(async () => {
  await hazelcast?.shutdown();
  await world?.stop();
});

test('the check is behind the admin login', async () => {
  const res = await admin(a.adminPort, 'GET', '/api/cluster/consistency', { user: null });
  assert.equal(res.status, 401, 'behind the admin login like every admin route');
});

test('differences between the nodes\' routes and the shared map are found on each node and repaired on request', async () => {
  await world.login(a, 'alice', 'phone');
  await world.login(b, 'bob', 'desk');
  const routes = await hazelcast.getMap<string, string>('xmppd.routes');
  await waitFor(async () => (await routes.size()) === 2, CLUSTER_MS, 'both routes in the map');
  const isClean = (reports: Report[]): boolean => Object.values(nonZero(reports)).every((counts) => Object.keys(counts).length === 0);
  await waitFor(async () => isClean(await check(a)), CLUSTER_MS, 'a clean report');
  const clean = await check(b);
  assert.deepEqual(clean.map((r) => r.node), ['node-a', 'node-b'], 'one answer per node, from either');
  assert.deepEqual(nonZero(clean), { 'node-a': {}, 'node-b': {} });

  // alice's entry vanishes from the map (node b's replica follows the removal), and an
  // entry names node b for a session it never had.
  await routes.remove('alice@localhost/phone');
  await routes.set('ghost@localhost/x', JSON.stringify({ n: 'node-b', a: true, p: 0 }));
  await waitFor(async () => {
    const found = nonZero(await check(a));
    return found['node-a']?.unpublished === 1 && found['node-b']?.stale === 1;
  }, CLUSTER_MS, 'the unpublished route on a and the stale entry on b reported');
  const report = await check(a);
  assert.deepEqual(report.find((r) => r.node === 'node-a')!.differences.unpublished, ['alice@localhost/phone']);
  assert.deepEqual(report.find((r) => r.node === 'node-b')!.differences.stale, ['ghost@localhost/x']);

  const repaired = await check(b, true);
  assert.ok(repaired.every((r) => r.repaired && !r.error), JSON.stringify(repaired));
  assert.deepEqual(nonZero(repaired), { 'node-a': {}, 'node-b': {} });
  assert.ok(await routes.containsKey('alice@localhost/phone'), 'alice published again');
  assert.equal(await routes.containsKey('ghost@localhost/x'), false, 'the stale entry removed');
});

test('xmppd cluster status, check and repair ask the node running on this machine', async () => {
  const box = cliSandbox(undefined, 'localhost');
  try {
    const env = { XMPPD_HTTP_PORT: String(a.httpPort), XMPPD_ADMIN_PORT: String(a.adminPort) };
    const cli = (args: string[], extra: Record<string, string> = {}) => runCli([...args, '--config', box.config], { env: { ...env, ...extra } });
    const status = await cli(['cluster', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^node node-a: running/m);
    assert.match(status.stdout, /node-a \(this node\)/);
    assert.match(status.stdout, /node-b /);
    assert.match(status.stdout, new RegExp(world.hazelcast.addresses[0]!.replace(/\./g, '\\.')));

    const noAdmin = await cli(['cluster', 'check']);
    assert.equal(noAdmin.code, 2, 'the administrator is needed');
    assert.match(noAdmin.stderr, /XMPPD_ADMIN_JID/);
    const credentials = { XMPPD_ADMIN_JID: ADMIN_USER[0], XMPPD_ADMIN_PASSWORD: ADMIN_USER[1] };
    const routes = await hazelcast.getMap<string, string>('xmppd.routes');
    await routes.set('ghost@localhost/y', JSON.stringify({ n: 'node-a', a: true, p: 0 }));
    await waitFor(async () => (await cli(['cluster', 'check'], credentials)).code === 1, CLUSTER_MS, 'the check to see the stale entry');
    const found = await cli(['cluster', 'check'], credentials);
    assert.match(found.stdout, /node-a stale: ghost@localhost\/y/);
    const repaired = await cli(['cluster', 'repair'], credentials);
    assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
    assert.equal((await cli(['cluster', 'check'], credentials)).code, 0);
  } finally {
    box.remove();
  }
});
