// Group chat (XEP-0045) as one service across a cluster: three real xmppd processes on one
// MariaDB database, clustered through a real Hazelcast member, with occupants of one room on
// every node. The room lives on one owner node (rendezvous hashing of its name); the others
// pass stanzas on to it. Then the owner is killed (-9) while the occupants on the other nodes
// keep talking: the node that would own the room next takes it over from its standby copy,
// the dead node's occupant is shown leaving, and every message sent after that arrives once.
// Last, a node joins and takes the room (handed over with its history), then leaves cleanly
// and hands it back, while messages flow: none is lost or doubled.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerOf, ranked } from '../../server/cluster/rendezvous.ts';
import type { Element } from '../../server/xml/element.ts';
import { nodeStatus, clusterProperties, startClusterWorld, type ClusterWorld } from './cluster-fixture.ts';
import { adminSet, createRoom, enter, item, presenceOf, SERVICE } from '../helpers/muc-client.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;
const HISTORY = 200;
const NODES = ['node-a', 'node-b', 'node-c'];
/**
 * A room that node c owns, so that killing c takes the room's owner away, and that a node d
 * joining a and b would own.
 */
const ROOM = (() => {
  for (let i = 0; ; i++) if (ownerOf(`talk${i}`, NODES) === 'node-c' && ownerOf(`talk${i}`, ['node-a', 'node-b', 'node-d']) === 'node-d') return `talk${i}`;
})();
const ROOM_JID = `${ROOM}@${SERVICE}`;

let world: ClusterWorld;
const nodes: Record<string, TestServer> = {};
const occupants: Record<string, RawClient> = {};
/** The room's messages in the order the room sent them, as alice got them, test after test. */
const roomOrder: string[] = [];

const groupchat = (el: Element): boolean => el.name === 'message' && el.attrs.type === 'groupchat' && el.attrs.from?.startsWith(`${ROOM_JID}/`) === true && el.getChild('body') !== undefined;
const say = (client: RawClient, id: string): void => client.send(`<message to='${ROOM_JID}' type='groupchat' id='${id}'><body>${id}</body></message>`);

/** A presence of the room about `nick` that gives it `role`. */
const roleOf = (nick: string, role: string) => (el: Element): boolean =>
  el.name === 'presence' && el.attrs.from === `${ROOM_JID}/${nick}` && item(el)?.attrs.role === role;

/** Takes every groupchat message of the room from a client's inbox, in arrival order. */
function bodies(client: RawClient): string[] {
  const out: string[] = [];
  for (let i = 0; i < client.inbox.length;) {
    if (groupchat(client.inbox[i]!)) out.push(client.inbox.splice(i, 1)[0]!.getChildText('body')!);
    else i++;
  }
  return out;
}

/** Waits until every id is in what `client` received (collected into `seen`). */
async function receive(client: RawClient, seen: string[], ids: string[], what: string): Promise<void> {
  await waitFor(async () => {
    seen.push(...bodies(client));
    return ids.every((id) => seen.includes(id));
  }, CLUSTER_MS, `${what} at ${client.jid}`).catch((err: Error) => {
    throw new Error(`${err.message}; missing ${ids.filter((id) => !seen.includes(id)).join(' ')}`);
  });
}

before(async () => {
  world = await startClusterWorld(1);
  nodes.a = await world.startNode('a', {
    ...clusterProperties(world.work, world.hazelcast),
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
  });
  nodes.b = await world.startNode('b');
  nodes.c = await world.startNode('c');
  for (const user of ['alice', 'bob', 'carol', 'dave']) await nodes.a.addUser(user, `${user}-pw`);
  for (const node of Object.values(nodes)) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 3, CLUSTER_MS, 'a cluster of 3');
  occupants.alice = await world.login(nodes.a!, 'alice', 'a');
  occupants.bob = await world.login(nodes.b!, 'bob', 'b');
  occupants.carol = await world.login(nodes.c!, 'carol', 'c');
  occupants.dave = await world.login(nodes.b!, 'dave', 'd');
});

after(() => world?.stop());

test('occupants on three nodes are in one room: everyone sees everyone, every message reaches everyone in one order', async () => {
  const { alice, bob, carol, dave } = occupants as Record<string, RawClient>;
  // Archived, with a long history: after its owner dies the room takes its history back from the archive.
  await createRoom(alice!, ROOM, 'Alice', { enablearchiving: '1', historylength: String(HISTORY) });
  await enter(bob!, ROOM, 'Bob');
  await enter(carol!, ROOM, 'Carol');
  await enter(dave!, ROOM, 'Dave');
  // Bob, joined before them, hears of Carol and Dave; Dave, joined last, was told of all three.
  for (const nick of ['Carol', 'Dave']) await presenceOf(bob!, ROOM, nick);
  for (const nick of ['Alice', 'Bob', 'Carol']) await presenceOf(dave!, ROOM, nick);
  for (const nick of ['Bob', 'Carol', 'Dave']) await presenceOf(alice!, ROOM, nick);

  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    for (const [name, client] of Object.entries(occupants)) {
      const id = `${name}-${i}`;
      ids.push(id);
      say(client, id);
    }
  }
  const seen: Record<string, string[]> = {};
  for (const [name, client] of Object.entries(occupants)) {
    seen[name] = [];
    await receive(client, seen[name]!, ids, 'the first messages');
  }
  for (const [name, got] of Object.entries(seen)) {
    assert.equal(got.length, ids.length, `${name} got each message once: ${got.join(' ')}`);
    for (const sender of Object.keys(occupants)) {
      const own = got.filter((id) => id.startsWith(`${sender}-`));
      assert.deepEqual(own, [...own].sort(), `${name} got ${sender}'s messages in the order sent`);
    }
  }
  // The room orders them once, for everyone.
  assert.deepEqual(seen.bob, seen.alice);
  assert.deepEqual(seen.carol, seen.alice);
  assert.deepEqual(seen.dave, seen.alice);
  roomOrder.push(...seen.alice!);
});

test('a moderator on one node changes the roles of occupants on others: visitor, voice again, kick', async () => {
  const { alice, bob, carol, dave } = occupants as Record<string, RawClient>;
  const muted = carol!.expect(roleOf('Bob', 'visitor'));
  assert.equal((await alice!.iq(adminSet(ROOM, `<item nick='Bob' role='visitor'/>`))).attrs.type, 'result');
  assert.equal(item(await muted)?.attrs.role, 'visitor');
  bob!.send(`<message to='${ROOM_JID}' type='groupchat' id='muted'><body>muted</body></message>`);
  const refused = await bob!.expect((el) => el.name === 'message' && el.attrs.id === 'muted' && el.attrs.type === 'error');
  assert.ok(refused.getChild('error')?.getChild('forbidden'), String(refused));

  const voiced = dave!.expect(roleOf('Bob', 'participant'));
  assert.equal((await alice!.iq(adminSet(ROOM, `<item nick='Bob' role='participant'/>`))).attrs.type, 'result');
  assert.equal(item(await voiced)?.attrs.role, 'participant');

  const kickedSeen = presenceOf(carol!, ROOM, 'Dave', 'unavailable');
  const kicked = presenceOf(dave!, ROOM, 'Dave', 'unavailable');
  assert.equal((await alice!.iq(adminSet(ROOM, `<item nick='Dave' role='none'><reason>enough</reason></item>`))).attrs.type, 'result');
  for (const p of [await kickedSeen, await kicked]) {
    assert.ok(p.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status').some((s) => s.attrs.code === '307'), String(p));
  }
  delete occupants.dave;
  for (const client of Object.values(occupants)) bodies(client);
});

test('the owner node killed -9 while occupants on the others talk: the next node takes the room over, the dead node\'s occupant leaves, nothing after that is lost or doubled', async (t) => {
  const { alice, bob } = occupants as Record<string, RawClient>;
  const survivors = { alice: alice!, bob: bob! };
  const standby = ranked(ROOM, NODES)[1];
  assert.ok(standby === 'node-a' || standby === 'node-b');
  const carolLeft = { alice: presenceOf(alice!, ROOM, 'Carol', 'unavailable', CLUSTER_MS), bob: presenceOf(bob!, ROOM, 'Carol', 'unavailable', CLUSTER_MS) };
  // Talk before, during and after the kill, one message per sender every 100 ms.
  const sent: Record<string, string[]> = { alice: [], bob: [] };
  let n = 0;
  let takenOver = -1;
  void Promise.all(Object.values(carolLeft)).then(() => { takenOver = n; }, () => undefined);
  const talk = setInterval(() => {
    for (const [name, client] of Object.entries(survivors)) {
      const id = `${name}-k${n}`;
      sent[name]!.push(id);
      say(client, id);
    }
    n++;
  }, 100);
  try {
    await new Promise((r) => setTimeout(r, 500));
    await nodes.c!.kill();
    for (const [name, left] of Object.entries(carolLeft)) {
      const p = await left;
      assert.equal(item(p)?.attrs.role, 'none', `${name} sees Carol leave`);
    }
    // Ten rounds more after both saw the takeover.
    await waitFor(async () => takenOver >= 0 && n >= takenOver + 10, CLUSTER_MS, 'messages after the takeover');
  } finally {
    clearInterval(talk);
  }
  const after = (id: string): boolean => Number(id.split('-k')[1]) >= takenOver;
  const all = [...sent.alice!, ...sent.bob!];
  const afterTakeover = all.filter(after);
  const received: Record<string, string[]> = {};
  for (const [name, client] of Object.entries(survivors)) {
    const got: string[] = received[name] = [];
    await receive(client, got, afterTakeover, 'every message sent after the takeover').catch((err: Error) => {
      const said = (node: TestServer): string => node.logs().split('\n').filter((l) => /group chat|cluster|node/i.test(l)).slice(-40).join('\n');
      throw new Error(`${err.message}\nnode a:\n${said(nodes.a!)}\nnode b:\n${said(nodes.b!)}`);
    });
    // A moment for stragglers that would be doubles.
    await new Promise((r) => setTimeout(r, 1_000));
    got.push(...bodies(client));
    for (const id of afterTakeover) assert.equal(got.filter((g) => g === id).length, 1, `${name} got ${id} once`);
    const lost = all.filter((id) => !after(id) && !got.includes(id));
    const doubled = all.filter((id) => got.filter((g) => g === id).length > 1);
    assert.deepEqual(doubled, [], `${name} got no message twice`);
    for (const sender of Object.keys(survivors)) {
      const own = got.filter((id) => id.startsWith(`${sender}-k`)).map((id) => Number(id.split('-k')[1]));
      assert.deepEqual(own, [...own].sort((x, y) => x - y), `${name} got ${sender}'s messages in the order sent`);
    }
    t.diagnostic(`${name}: ${lost.length} of the ${all.length - afterTakeover.length} messages sent before the takeover lost`);
    assert.equal(await client.nothing((el) => el.name === 'presence' && el.attrs.from === `${ROOM_JID}/Carol`, 500), true, `${name} sees Carol leave once`);
  }

  // The room goes on at its new owner: a newcomer on a surviving node sees who is left.
  const carol = await world.login(nodes.a!, 'carol', 'again');
  await enter(carol, ROOM, 'Carol');
  for (const nick of ['Alice', 'Bob']) await presenceOf(carol, ROOM, nick);
  // Its history is the room's newest messages, as the occupants got them: those the dead
  // owner had sent on came back from the archive.
  const history = bodies(carol);
  roomOrder.push(...received.alice!);
  assert.deepEqual(history, roomOrder.slice(-HISTORY));
  t.diagnostic(`history: ${history.length} messages, ${history.filter((id) => !after(id)).length} of them sent before the takeover`);
  const newcomer = await presenceOf(alice!, ROOM, 'Carol');
  assert.equal(item(newcomer)?.attrs.role, 'participant');
  occupants.carol = carol;
  await presenceOf(bob!, ROOM, 'Carol');
  for (const client of Object.values(occupants)) bodies(client);
});

test('a node joins and takes the room over, then leaves cleanly and hands it back, while everyone talks: nothing lost, nothing doubled, order kept', async (t) => {
  const talkers = occupants as Record<string, RawClient>;
  const sent: string[] = [];
  let n = 0;
  const talk = setInterval(() => {
    for (const [name, client] of Object.entries(talkers)) {
      const id = `${name}-j${n}`;
      sent.push(id);
      say(client, id);
    }
    n++;
  }, 50);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const d = await world.startNode('d');
    nodes.d = d;
    for (const node of [nodes.a!, nodes.b!, d]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 3, CLUSTER_MS, 'a cluster of 3 with d');
    const joined = n;
    t.diagnostic(`d in the cluster of 3 at round ${joined}`);
    await waitFor(async () => n >= joined + 20, CLUSTER_MS, 'messages while d owns the room');
    await d.stop();
    // It handed the room over itself (not through the standby copy), and a node took it.
    assert.match(d.logs(), /group chat: leaving the cluster, rooms handed over rooms=1/);
    assert.match(nodes.a!.logs() + nodes.b!.logs(), /rooms handed over by another node node=node-d rooms=1 leaving=true/);
    for (const node of [nodes.a!, nodes.b!]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of 2 again');
    const left = n;
    t.diagnostic(`d gone at round ${left}`);
    await waitFor(async () => n >= left + 20, CLUSTER_MS, 'messages after d left');
  } finally {
    clearInterval(talk);
  }
  for (const [name, client] of Object.entries(talkers)) {
    const got: string[] = [];
    await receive(client, got, sent, 'every message').catch((err: Error) => {
      const said = (node: TestServer): string => node.logs().split('\n').filter((l) => /group chat|cluster|node|left|joined/i.test(l)).slice(-25).join('\n');
      throw new Error(`${err.message}\nnode a:\n${said(nodes.a!)}\nnode b:\n${said(nodes.b!)}\nnode d:\n${said(nodes.d!)}`);
    });
    await new Promise((r) => setTimeout(r, 500));
    got.push(...bodies(client));
    assert.deepEqual(sent.filter((id) => got.filter((g) => g === id).length !== 1), [], `${name} got each message once`);
    for (const sender of Object.keys(talkers)) {
      const own = got.filter((id) => id.startsWith(`${sender}-j`)).map((id) => Number(id.split('-j')[1]));
      assert.deepEqual(own, [...own].sort((x, y) => x - y), `${name} got ${sender}'s messages in the order sent`);
    }
  }
});
