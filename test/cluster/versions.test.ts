// Version skew and the Hazelcast members in view: each node publishes its xmppd and plugin
// versions, and /status, /metrics and the console show them, with a mismatch named (as in a
// rolling upgrade, here a node whose plugin says another version), and the Hazelcast members
// the node's client is connected to. Two real xmppd processes, one real member, MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_VERSION } from '../../server/version.ts';
import { clusterProperties, metric, nodeStatus, pluginsWithCluster, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;
const PLUGIN_VERSION = (JSON.parse(readFileSync(new URL('../../plugins/hazelcast/plugin.json', import.meta.url), 'utf8')) as { version: string }).version;
let world: ClusterWorld;
let a: TestServer;

before(async () => {
  world = await startClusterWorld(1);
  a = await world.startNode('a', clusterProperties(join(world.work, 'config'), world.hazelcast));
});

after(() => world?.stop());

test('every node\'s versions are shown, a mismatch is named, and the Hazelcast member is in view', async () => {
  // Node b runs the same code under another plugin version, as a node mid-upgrade would.
  const plugins = pluginsWithCluster(join(world.work, 'b-plugins'));
  const manifest = join(plugins, 'hazelcast', 'plugin.json');
  writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), version: '0.0.9' }));
  const b = await world.startNode('b', undefined, { XMPPD_PLUGINS_DIR: plugins });
  await waitFor(async () => (await nodeStatus(a)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of two');

  const cluster = (await nodeStatus(a)).cluster!;
  const versions = Object.fromEntries(cluster.members.map((m) => [m.nodeId, `${m.version} ${m.pluginVersion}`]));
  assert.deepEqual(versions, { 'node-a': `${SERVER_VERSION} ${PLUGIN_VERSION}`, 'node-b': `${SERVER_VERSION} 0.0.9` });
  assert.match(cluster.versionSkew ?? '', /node-b xmppd [^,]+, plugin 0\.0\.9/);
  assert.equal(await metric(a, 'xmppd_cluster_version_skew'), 1);
  assert.equal(cluster.hazelcastMembers?.length, 1, JSON.stringify(cluster.hazelcastMembers));
  const [member] = cluster.hazelcastMembers!;
  assert.equal(member!.address, world.hazelcast.addresses[0]);
  assert.match(member!.version ?? '', /^5\.\d+\.\d+$/);
  assert.equal(await metric(a, 'xmppd_hazelcast_members'), 1);

  await b.stop();
  await waitFor(async () => (await nodeStatus(a)).cluster?.members.length === 1, CLUSTER_MS, 'node b gone');
  assert.equal((await nodeStatus(a)).cluster!.versionSkew, null, 'one version left');
  assert.equal(await metric(a, 'xmppd_cluster_version_skew'), 0);
});
