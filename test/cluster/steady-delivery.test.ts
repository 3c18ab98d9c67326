// Messages for online users while their node, or the sender's, is out of the cluster for a
// moment: clustering switched off and on, every Hazelcast member lost for longer than the
// clients wait (the nodes leave, serve standalone, and join again once the members are back),
// and the clustering plugin upgraded on one node.
// Messages flow steadily both ways the whole time; each one reaches its recipient once, none
// goes to offline storage (they wait for the route: hazelcast.max.execution.seconds), and
// neither user is told the other went unavailable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterProperties, friend, nodeStatus, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;

let world: ClusterWorld;
let a: TestServer;
let b: TestServer;
let alice: RawClient;
let bob: RawClient;

before(async () => {
  world = await startClusterWorld(1);
  a = await world.startNode('a', {
    // The clients give up on lost members after 3 s: the nodes then leave the cluster.
    ...clusterProperties(world.work, { ...world.hazelcast, connectTimeoutMs: 3_000 }),
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
    // How long messages wait for a route: the default 30 s is more than these outages take on
    // a machine of its own, not always on a loaded test machine, where a rejoin is slow.
    'hazelcast.max.execution.seconds': '90',
  });
  b = await world.startNode('b');
  const storage = await a.storage();
  for (const user of ['alice', 'bob']) await a.addUser(user, `${user}-pw`);
  await storage.roster.put('alice', friend('bob@localhost'));
  await storage.roster.put('bob', friend('alice@localhost'));
  await joined(2);
  alice = await world.login(a, 'alice', 'desk');
  bob = await world.login(b, 'bob', 'phone');
  await alice.expect((el) => el.name === 'presence' && el.attrs.from === 'bob@localhost/phone' && !el.attrs.type, CLUSTER_MS);
  // The answer to alice's probe, from before bob logged in, is no news of the tests.
  alice.inbox.splice(0);
});
after(() => world?.stop());

async function joined(size: number): Promise<void> {
  for (const node of [a, b]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === size, CLUSTER_MS, `a cluster of ${size}`);
}

/** Sends a chat message every 50 ms from `from` to `to` until stop() says how many went. */
function steadily(from: RawClient, to: string, tag: string): { stop(): number } {
  let sent = 0;
  const timer = setInterval(() => from.send(`<message to='${to}' type='chat' id='${tag}-${sent++}'><body>${tag}</body></message>`), 50);
  return { stop: () => { clearInterval(timer); return sent; } };
}

/** Moves `client`'s messages `tag`-N from its inbox into `seen`, counting each id's copies. */
function takeMessages(client: RawClient, tag: string, seen: Map<string, number>): void {
  for (let i = client.inbox.length - 1; i >= 0; i--) {
    const el = client.inbox[i]!;
    if (el.name !== 'message' || !el.attrs.id?.startsWith(`${tag}-`)) continue;
    seen.set(el.attrs.id, (seen.get(el.attrs.id) ?? 0) + 1);
    client.inbox.splice(i, 1);
  }
}

/** Waits until `client` has every message `tag`-0 .. `tag`-(count-1), each once. */
async function receivedAll(client: RawClient, tag: string, count: number): Promise<void> {
  const seen = new Map<string, number>();
  const take = (): void => takeMessages(client, tag, seen);
  await waitFor(() => { take(); return seen.size === count; }, 3 * CLUSTER_MS, `${count} messages ${tag}`).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: got ${seen.size}`);
  });
  await new Promise((r) => setTimeout(r, 300));
  take();
  assert.deepEqual([...seen.values()].filter((n) => n > 1), [], 'no message twice');
  assert.equal(seen.size, count);
}

async function noneOffline(): Promise<void> {
  const storage = await a.storage();
  assert.deepEqual([await storage.offline.count('alice'), await storage.offline.count('bob')], [0, 0], 'nothing stored offline');
}

/** Unavailable presence from the account or any of its resources, taken from the inbox. */
function toldUnavailable(client: RawClient, bareJid: string): string[] {
  const told = client.inbox.filter((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from?.split('/')[0] === bareJid);
  client.inbox.splice(0);
  return told.map((el) => el.attrs.from!);
}

/** Messages both ways, alice to bob and bob to alice, until checked. */
function bothWays(tag: string): { delivered(): Promise<void> } {
  const there = steadily(alice, 'bob@localhost/phone', `${tag}ab`);
  const back = steadily(bob, 'alice@localhost/desk', `${tag}ba`);
  return {
    /** Stops sending; every message arrived once, none is offline, nobody was told the other went. */
    async delivered() {
      await new Promise((r) => setTimeout(r, 500));
      const [ab, ba] = [there.stop(), back.stop()];
      await receivedAll(bob, `${tag}ab`, ab);
      await receivedAll(alice, `${tag}ba`, ba);
      await noneOffline();
      assert.deepEqual(toldUnavailable(alice, 'bob@localhost'), [], 'alice is not told bob went unavailable');
      assert.deepEqual(toldUnavailable(bob, 'alice@localhost'), [], 'bob is not told alice went unavailable');
    },
  };
}

test('clustering switched off and on under steady traffic: every message delivered once, none offline, nobody told unavailable', async () => {
  const traffic = bothWays('sw-');
  await new Promise((r) => setTimeout(r, 500));
  await a.setProperty('clustering.enabled', 'false');
  await waitFor(async () => !(await nodeStatus(a)).cluster && !(await nodeStatus(b)).cluster, CLUSTER_MS, 'both nodes to be standalone');
  await a.setProperty('clustering.enabled', 'true');
  await joined(2);
  await traffic.delivered();
});

test('every Hazelcast member lost until the nodes leave, then back: every message delivered once, none offline', async () => {
  const traffic = bothWays('hz-');
  await Promise.all(world.hazelcast.members.map((m) => m.kill()));
  for (const node of [a, b]) await waitFor(() => /gave up reconnecting; leaving the cluster/.test(node.logs()), CLUSTER_MS, 'the node to leave');
  await world.restartMembers();
  await joined(2);
  await traffic.delivered();
});

test('clustering switched off twice with ten sessions on a node: no contact is told any of them went unavailable', async () => {
  // The removals of the leaving node's routes and of its member entry reach the other node in
  // any order; none of them may be taken for the node's death.
  const resources = Array.from({ length: 10 }, (_, i) => `r${i}`);
  for (const r of resources) {
    await world.login(b, 'bob', r);
    await alice.expect((el) => el.name === 'presence' && el.attrs.from === `bob@localhost/${r}` && !el.attrs.type, CLUSTER_MS);
  }
  for (let round = 0; round < 2; round++) {
    await a.setProperty('clustering.enabled', 'false');
    await waitFor(async () => !(await nodeStatus(a)).cluster && !(await nodeStatus(b)).cluster, CLUSTER_MS, 'both nodes to be standalone');
    await new Promise((r) => setTimeout(r, 1_000));
    await a.setProperty('clustering.enabled', 'true');
    await joined(2);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  assert.deepEqual(toldUnavailable(alice, 'bob@localhost'), [], 'nobody went unavailable');
});

test('the clustering plugin upgraded on one node under steady traffic: every message delivered once, none offline', async () => {
  const traffic = bothWays('up-');
  const from = b.logs().length;
  // A new build of the plugin, as an operator drops it in: the folder is reloaded.
  const bundle = join(b.pluginsDir, 'hazelcast', 'index.js');
  appendFileSync(bundle, '\n// the next build\n');
  await waitFor(() => /left the cluster[\s\S]*joined the cluster/.test(b.logs().slice(from)), CLUSTER_MS, 'node B to leave and join again with the new build');
  await joined(2);
  await traffic.delivered();
});
