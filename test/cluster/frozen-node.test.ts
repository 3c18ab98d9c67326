// A frozen node (SIGSTOP, as a VM pause or a long GC does), resumed after the others took it
// for dead. The messages sent to it before it was taken for dead wait for its acknowledgement
// and are delivered when it resumes, not stored offline as well; the ones sent afterwards wait
// for its routes instead of going to offline storage; and the node, on resuming, learns it
// was taken for dead, publishes its routes again and announces its users' presence again, so
// that their contacts, told they went unavailable, see them available once more.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterProperties, friend, nodeStatus, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;

let world: ClusterWorld;
before(async () => {
  world = await startClusterWorld(1);
});
after(() => world?.stop());

test('a node frozen past the node timeout and resumed: no duplicate, nothing offline, its users available again', async () => {
  const a = await world.startNode('a', {
    ...clusterProperties(world.work, world.hazelcast),
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
  });
  const b = await world.startNode('b');
  const storage = await a.storage();
  for (const user of ['alice', 'bob']) await a.addUser(user, `${user}-pw`);
  await storage.roster.put('alice', friend('bob@localhost'));
  await storage.roster.put('bob', friend('alice@localhost'));
  for (const node of [a, b]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'both nodes to join');
  const alice = await world.login(a, 'alice', 'desk');
  const bob = await world.login(b, 'bob', 'phone');
  const bobAvailable = (el: { name: string; attrs: Record<string, string | undefined> }): boolean => el.name === 'presence' && el.attrs.from === 'bob@localhost/phone' && !el.attrs.type;
  await alice.expect(bobAvailable, CLUSTER_MS);

  let sent = 0;
  const send = (): void => alice.send(`<message to='bob@localhost/phone' type='chat' id='f-${sent++}'><body>are you there?</body></message>`);
  const timer = setInterval(send, 100);
  const from = a.logs().length;
  process.kill(b.pid!, 'SIGSTOP');
  try {
    // Its link port still takes connections (the kernel's backlog), so node A does not take it
    // for dead early: only when its entry expires.
    await waitFor(() => /node gone from the cluster.*peer=node-b.*how=expired/.test(a.logs().slice(from)), CLUSTER_MS, 'node A to take node B for gone');
    await alice.expect((el) => el.name === 'presence' && el.attrs.from === 'bob@localhost/phone' && el.attrs.type === 'unavailable', CLUSTER_MS);
    await new Promise((r) => setTimeout(r, 2_000));
  } finally {
    process.kill(b.pid!, 'SIGCONT');
  }
  await waitFor(() => /this node was taken for dead: publishing its routes and presence again/.test(b.logs()), CLUSTER_MS, 'node B to learn it was taken for dead');
  await alice.expect(bobAvailable, CLUSTER_MS);
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(timer);

  const seen = new Map<string, number>();
  await waitFor(() => {
    for (const el of bob.inbox.splice(0)) if (el.name === 'message' && el.attrs.id?.startsWith('f-')) seen.set(el.attrs.id, (seen.get(el.attrs.id) ?? 0) + 1);
    return seen.size === sent;
  }, CLUSTER_MS, `${sent} messages at bob`).catch((err: unknown) => { throw new Error(`${(err as Error).message}: got ${seen.size}`); });
  await new Promise((r) => setTimeout(r, 300));
  for (const el of bob.inbox.splice(0)) if (el.name === 'message') seen.set(el.attrs.id!, (seen.get(el.attrs.id!) ?? 0) + 1);
  assert.deepEqual([...seen].filter(([, n]) => n > 1), [], 'no message twice');
  assert.equal(await storage.offline.count('bob'), 0, 'nothing stored offline for bob, online all along');
});
