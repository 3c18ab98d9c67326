// The group chat service seen whole from any node of a cluster: two real xmppd processes on
// one MariaDB database, clustered through a real Hazelcast member. Rooms that node b owns
// are listed, shown (with occupants on both nodes), changed, created and destroyed through
// node a's admin API, their occupants told as XEP-0045 says; node a's disco#items lists a
// temporary public room of node b; a user's rooms on b count against
// xmpp.muc.max-rooms-per-user when he creates one on a. Last, node b is frozen: a's list
// names it as missing and shows the rest, and a question about its room is a 503, not a hang.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerOf } from '../../server/cluster/rendezvous.ts';
import { clusterProperties, nodeStatus, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import { NS_MUC_USER, SERVICE, createRoom, enter, join, presenceOf, statuses } from '../helpers/muc-client.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin, waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;
const NODES = ['node-a', 'node-b'];
/** The first name of `prefix<n>` that `node` owns among the two nodes. */
const ownedBy = (node: string, prefix: string): string => {
  for (let i = 0; ; i++) if (ownerOf(`${prefix}${i}`, NODES) === node) return `${prefix}${i}`;
};
const TEMP = ownedBy('node-b', 'chat');
const MADE = ownedBy('node-b', 'hall');
const CAROLS_B = ownedBy('node-b', 'carol');
const CAROLS_A = ownedBy('node-a', 'carol');
const FROZEN = ownedBy('node-b', 'cold');

let world: ClusterWorld;
let a: TestServer;
let b: TestServer;
let alice: RawClient;
let bob: RawClient;

const api = (method: string, path: string, json?: unknown) => admin(a.adminPort, method, path, json === undefined ? {} : { json });
const roomPath = (name: string): string => `/api/rooms/${encodeURIComponent(name)}`;

before(async () => {
  world = await startClusterWorld(1);
  a = await world.startNode('a', {
    ...clusterProperties(world.work, world.hazelcast),
    ...ADMIN_PROPERTIES,
    'xmpp.muc.max-rooms-per-user': '1',
    // Long enough that a node frozen for a few seconds stays in the cluster.
    'hazelcast.node.timeout.seconds': '60',
  });
  b = await world.startNode('b');
  await a.addUser('admin', ADMIN_USER[1]);
  for (const user of ['alice', 'bob', 'carol']) await a.addUser(user, `${user}-pw`);
  for (const node of [a, b]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of 2');
  alice = await world.login(a, 'alice', 'a');
  bob = await world.login(b, 'bob', 'b');
});

after(() => world?.stop());

test('a temporary public room that node b owns is in node a\'s disco#items, and in its admin list with its occupants of both nodes', async () => {
  await createRoom(alice, TEMP, 'Alice', { roomname: 'Chat on b' });
  await enter(bob, TEMP, 'Bob');
  await presenceOf(alice, TEMP, 'Bob');

  const items = await alice.iq(`<iq type='get' to='${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
  assert.equal(items.attrs.type, 'result', String(items));
  const listed = items.getChild('query')!.getChildren('item').map((i) => [i.attrs.jid, i.attrs.name]);
  assert.deepEqual(listed, [[`${TEMP}@${SERVICE}`, 'Chat on b']]);

  const list = await api('GET', '/api/rooms');
  assert.equal(list.status, 200, JSON.stringify(list.body));
  assert.deepEqual(list.body.missing, []);
  assert.deepEqual(list.body.rooms.map((r: { name: string; node: string; occupants: number; persistent: boolean }) => [r.name, r.node, r.occupants, r.persistent]),
    [[TEMP, 'node-b', 2, false]]);

  const detail = await api('GET', roomPath(`${TEMP}@${SERVICE}`));
  assert.equal(detail.status, 200, JSON.stringify(detail.body));
  assert.equal(detail.body.node, 'node-b');
  assert.deepEqual(detail.body.occupants, [
    { nick: 'Alice', role: 'moderator', affiliation: 'owner', bare: 'alice@localhost', jids: ['alice@localhost/a'] },
    { nick: 'Bob', role: 'participant', affiliation: 'none', bare: 'bob@localhost', jids: ['bob@localhost/b'] },
  ]);
  assert.deepEqual([(await api('GET', roomPath(`nowhere@${SERVICE}`))).body.code, (await api('GET', roomPath('a b'))).body.code], ['ROOM_NOT_FOUND', 'ROOM_INVALID']);
});

test('node a\'s admin API changes a room of node b: its occupants on both nodes are told (104, the new affiliation)', async () => {
  const told = [alice, bob].map((c) => c.expect((el) => el.name === 'message' && el.attrs.from === `${TEMP}@${SERVICE}` && statuses(el).includes('104')));
  const changed = await api('PATCH', roomPath(TEMP), { options: { roomname: 'Renamed', whois: 'anyone' } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.deepEqual([changed.body.title, changed.body.options.whois, changed.body.node], ['Renamed', 'anyone', 'node-b']);
  await Promise.all(told);

  const promoted = alice.expect((el) => el.name === 'presence' && el.attrs.from === `${TEMP}@${SERVICE}/Bob` && el.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation === 'admin');
  const raised = await api('PATCH', roomPath(TEMP), { affiliations: [{ jid: 'bob@localhost', affiliation: 'admin' }] });
  assert.equal(raised.status, 200, JSON.stringify(raised.body));
  await promoted;
  // The room's refusal comes back from its node as it would from this one.
  const lastOwner = await api('PATCH', roomPath(TEMP), { affiliations: [{ jid: 'alice@localhost', affiliation: 'member' }] });
  assert.deepEqual([lastOwner.status, lastOwner.body.code], [400, 'ROOM_INVALID']);
  assert.match(lastOwner.body.message, /at least one owner/);
});

test('node a\'s admin API creates a persistent room that node b owns; a second of that name is refused by b', async () => {
  const created = await api('POST', '/api/rooms', { name: MADE, owner: 'bob@localhost', options: { roomname: 'Made on a' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.node, 'node-b');
  const onB = await admin(b.adminPort, 'GET', roomPath(MADE));
  assert.deepEqual([onB.status, onB.body.node, onB.body.title], [200, 'node-b', 'Made on a']);
  const dup = await api('POST', '/api/rooms', { name: MADE, owner: 'alice@localhost' });
  assert.deepEqual([dup.status, dup.body.code], [409, 'ROOM_EXISTS']);
  await enter(alice, MADE, 'Alice');
});

test('node a\'s admin API destroys rooms of node b: every occupant gets the destroy presence', async () => {
  const gone = [presenceOf(alice, TEMP, 'Alice', 'unavailable'), presenceOf(bob, TEMP, 'Bob', 'unavailable')];
  const destroyed = await api('DELETE', `${roomPath(TEMP)}?reason=${encodeURIComponent('closing')}&alternate=${encodeURIComponent(`${MADE}@${SERVICE}`)}`);
  assert.equal(destroyed.status, 204, JSON.stringify(destroyed.body));
  for (const p of await Promise.all(gone)) {
    const destroy = p.getChild('x', NS_MUC_USER)!.getChild('destroy')!;
    assert.deepEqual([destroy.attrs.jid, destroy.getChildText('reason')], [`${MADE}@${SERVICE}`, 'closing']);
  }
  assert.equal((await api('GET', roomPath(TEMP))).body.code, 'ROOM_NOT_FOUND');
  const aliceLeft = presenceOf(alice, MADE, 'Alice', 'unavailable');
  assert.equal((await api('DELETE', roomPath(MADE))).status, 204);
  await aliceLeft;
  assert.deepEqual((await api('GET', '/api/rooms')).body.rooms, []);
  assert.equal((await admin(b.adminPort, 'GET', '/api/rooms')).body.rooms.length, 0);
});

test('xmpp.muc.max-rooms-per-user counts the rooms a user owns on the other node', async () => {
  const carol = await world.login(a, 'carol', 'c');
  await createRoom(carol, CAROLS_B, 'Carol');
  // Her one room is on node b; node a, which would hold the next, counts it.
  const refused = await join(carol, CAROLS_A, 'Carol');
  assert.equal(refused.attrs.type, 'error', String(refused));
  assert.ok(refused.getChild('error')?.getChild('not-allowed'), String(refused));
  assert.equal(refused.getChild('error')?.getChildText('text'), 'You own as many rooms as you may');
  const list = (await api('GET', '/api/rooms')).body.rooms.map((r: { name: string }) => r.name);
  assert.deepEqual(list, [CAROLS_B]);
  // Once it is gone she may create the other.
  const left = presenceOf(carol, CAROLS_B, 'Carol', 'unavailable');
  carol.send(`<presence to='${CAROLS_B}@${SERVICE}/Carol' type='unavailable'/>`);
  await left;
  await waitFor(async () => (await api('GET', '/api/rooms')).body.rooms.length === 0, 5_000, 'the temporary room to close');
  await createRoom(carol, CAROLS_A, 'Carol');
});

test('a frozen node b: a\'s list shows the rest and names b as missing, a question about b\'s room is a 503, disco#items still answers', async () => {
  await createRoom(bob, FROZEN, 'Bob');
  process.kill(b.pid!, 'SIGSTOP');
  try {
    const started = Date.now();
    const list = await api('GET', '/api/rooms');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.missing, ['node-b']);
    assert.deepEqual(list.body.rooms.map((r: { name: string }) => r.name), [CAROLS_A], 'node a\'s own room is listed');
    assert.ok(Date.now() - started < 10_000, 'the list waited a bounded time');

    const detail = await api('GET', roomPath(FROZEN));
    assert.deepEqual([detail.status, detail.body.code], [503, 'ROOM_NODE_UNAVAILABLE']);
    assert.match(detail.body.message, /node-b (did not answer|cannot be reached)/);
    assert.ok(Number(detail.headers.get('retry-after')) > 0);

    const items = await alice.iq(`<iq type='get' to='${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, 10_000);
    assert.equal(items.attrs.type, 'result', String(items));
    assert.deepEqual(items.getChild('query')!.getChildren('item').map((i) => i.attrs.jid), [`${CAROLS_A}@${SERVICE}`]);
  } finally {
    process.kill(b.pid!, 'SIGCONT');
  }
  // Back, b answers again.
  await waitFor(async () => (await api('GET', roomPath(FROZEN))).status === 200, CLUSTER_MS, 'node b answering again');
});
