// What a node with the clustering plugin says about clustering as it is switched on and off:
// off, it claims no Hazelcast (no dependency in /status or /metrics, no cluster object);
// switched on, it joins without a moment of `degraded`; switched off while an attempt to
// join waits for its next try, nothing more about clustering is logged.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterNodeEnv, clusterProperties, metric, nodeStatus, type NodeStatus } from './cluster-fixture.ts';
import { startHazelcastCluster } from '../helpers/hazelcast-member.ts';
import { freePort } from '../helpers/processes.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;
const work = mkdtempSync(join(tmpdir(), 'xmppd-switching-'));
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

async function node(name: string, properties: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer({ properties, env: clusterNodeEnv(join(work, name), name) });
  cleanup.push(() => server.stop());
  return server;
}

async function assertNoHazelcastClaimed(n: TestServer, when: string): Promise<void> {
  const s = await nodeStatus(n);
  assert.equal(s.state, 'running', when);
  assert.deepEqual(s.dependencies.map((d) => d.name), ['Database'], `${when}: Hazelcast is no dependency`);
  assert.equal(s.cluster, undefined, `${when}: no cluster object`);
  assert.ok(Number.isNaN(await metric(n, 'xmppd_dependency_up{dependency="Hazelcast"}')), `${when}: no Hazelcast gauge`);
  assert.equal(await metric(n, 'xmppd_cluster_enabled'), 0, when);
  assert.equal(await metric(n, 'xmppd_cluster_members'), 1, when);
}

test('off, a node claims no Hazelcast; switched on it joins without a moment of degraded; off again, none', async () => {
  const hazelcast = await startHazelcastCluster({ members: 1 });
  cleanup.push(() => hazelcast.stop());
  const properties = clusterProperties(join(work, 'member'), hazelcast);
  const n = await node('switched', { ...properties, 'clustering.enabled': 'false' });
  await assertNoHazelcastClaimed(n, 'clustering off');

  await n.setProperty('clustering.enabled', 'true');
  const seen: NodeStatus[] = [];
  await waitFor(async () => {
    const s = await nodeStatus(n);
    seen.push(s);
    return s.cluster?.state === 'joined' && s.dependencies.some((d) => d.name === 'Hazelcast' && d.available);
  }, CLUSTER_MS, 'the node to join');
  assert.deepEqual([...new Set(seen.map((s) => s.state))], ['running'], 'never degraded (nor paused) on the way');
  assert.doesNotMatch(n.logs(), /degraded/);
  assert.equal(await metric(n, 'xmppd_cluster_enabled'), 1);
  assert.equal(await metric(n, 'xmppd_dependency_up{dependency="Hazelcast"}'), 1);

  await n.setProperty('clustering.enabled', 'false');
  await waitFor(async () => (await nodeStatus(n)).cluster === undefined, CLUSTER_MS, 'the node to leave');
  await waitFor(() => /left the cluster/.test(n.logs()), CLUSTER_MS, 'the node to say it left');
  await assertNoHazelcastClaimed(n, 'switched off again');
});

for (const [when, settle] of [['waits to try again', 0], ['is in an attempt', 1_500]] as const) {
  test(`switched off while it ${when}, a node logs nothing more about joining`, async () => {
    // Each attempt takes 5 s (the client's connect timeout), the pause between two 1 s.
    const n = await node(`given-up-${settle}`, {
      ...clusterProperties(join(work, `nobody-${settle}`), { clusterName: `xmppd-nobody-${process.pid}`, addresses: [`127.0.0.1:${await freePort()}`], connectTimeoutMs: 5_000 }),
      'hazelcast.startup.retry.count': '20',
      'hazelcast.startup.retry.seconds': '1',
    });
    await waitFor(() => /cannot join the cluster attempt=1 /.test(n.logs()), CLUSTER_MS, 'a first failed attempt');
    // The switch reaches the node within the property poll (2 s): in the pause, or (later) in the second attempt.
    await new Promise((r) => setTimeout(r, settle));
    await n.setProperty('clustering.enabled', 'false');
    await waitFor(async () => (await nodeStatus(n)).cluster === undefined, CLUSTER_MS, 'the switch to reach the node');
    const from = n.logs().length;
    assert.equal((await nodeStatus(n)).state, 'running', 'no longer paused: clustering is off');
    // Longer than what is left of an attempt and a pause.
    await new Promise((r) => setTimeout(r, 7_000));
    const later = n.logs().slice(from);
    assert.doesNotMatch(later, /cannot join|could not join|hazelcast/i, later);
  });
}
