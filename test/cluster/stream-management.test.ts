// Stream management across a cluster: two real xmppd processes on one MariaDB database and a
// real Hazelcast member. A client whose connection to node A dropped resumes on node B: the
// same JID, what it had not acknowledged sent again, nobody told it went offline, and it is
// routed to on B from then on. A session held by a node that was killed is resumed on B from
// B's replica of it: what A had sent and the client had not acknowledged comes again, and its
// contacts see it available again; one whose client does not come back within its
// resumption time has its unacknowledged messages stored offline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from '../../server/xml/element.ts';
import { clusterProperties, friend, nodeStatus, routeCount, startClusterNode, stopClusterTest } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { waitFor } from '../plugins/fixtures.ts';

const CLUSTER_MS = 30_000;
const NS_SM = 'urn:xmpp:sm:3';
const isSm = (name: string) => (el: Element): boolean => el.name === name && el.attrs.xmlns === NS_SM;
const isMessage = (el: Element): boolean => el.name === 'message';

/** The Hazelcast member, the shared database, the two nodes and every client opened, for after(). */
const world: { hazelcast?: HazelcastCluster; database?: TestDatabase; work: string; a?: TestServer | null; b?: TestServer | null; clients: RawClient[] } = {
  work: mkdtempSync(join(tmpdir(), 'xmppd-cluster-sm-')),
  clients: [],
};

/** Logged in with initial presence; closed by after(). */
async function login(node: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.login(node.c2sPort, user, `${user}-pw`, { resource, presence: true });
  world.clients.push(c);
  return c;
}

async function enableResumption(c: RawClient): Promise<string> {
  const enabled = c.expect(isSm('enabled'));
  c.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  return (await enabled).attrs.id!;
}

/** Authenticated and restarted, not bound: where <resume/> goes. */
async function authenticated(node: TestServer, user: string): Promise<RawClient> {
  const c = await RawClient.connect(node.c2sPort);
  world.clients.push(c);
  await c.open();
  assert.equal((await c.authPlain(user, `${user}-pw`)).name, 'success');
  await c.open();
  return c;
}

before(async () => {
  const [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
  Object.assign(world, { hazelcast, database });
  const a = world.a = await startClusterNode(database, world.work, 'a', {
    ...clusterProperties(world.work, hazelcast),
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
  });
  const b = world.b = await startClusterNode(database, world.work, 'b');
  const storage = await a.storage();
  for (const user of ['alice', 'bob', 'carol', 'dave']) await a.addUser(user, `${user}-pw`);
  await storage.roster.put('alice', friend('bob@localhost'));
  await storage.roster.put('bob', friend('alice@localhost'));
  await storage.roster.put('bob', friend('carol@localhost'));
  await storage.roster.put('carol', friend('bob@localhost'));
  for (const node of [a, b]) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of two');
});

after(() => stopClusterTest({ clients: world.clients, nodes: [world.a, world.b], hazelcast: world.hazelcast, database: world.database, work: world.work }));

test('a session whose connection to node A dropped is resumed on node B', async () => {
  const [a, b] = [world.a!, world.b!];
  const alice = await login(a, 'alice', 'phone');
  const id = await enableResumption(alice);
  await waitFor(async () => (await routeCount(b)) >= 1, CLUSTER_MS, 'node B to learn alice\'s route');
  const bob = await login(b, 'bob', 'desk');
  await bob.expect((el) => el.name === 'presence' && el.attrs.from === 'alice@localhost/phone');
  await alice.expect((el) => el.name === 'presence' && el.attrs.from === 'bob@localhost/desk');

  bob.send(`<message to='alice@localhost/phone' type='chat' id='c1'><body>1</body></message>`);
  await alice.expect((el) => el.attrs.id === 'c1');
  alice.destroy();
  await alice.closed;
  bob.send(`<message to='alice@localhost/phone' type='chat' id='c2'><body>2</body></message>`);
  await new Promise((r) => setTimeout(r, 500));

  const back = await authenticated(b, 'alice');
  const resumed = back.expect(isSm('resumed'), 10_000);
  back.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
  // Alice had sent one stanza (her presence came before <enable/>, so none counted).
  assert.equal((await resumed).attrs.h, '0');
  const ids = [(await back.expect(isMessage)).attrs.id, (await back.expect(isMessage)).attrs.id];
  assert.deepEqual(ids, ['c1', 'c2'], 'what alice had not acknowledged, in order');
  assert.ok(await back.nothing(isMessage, 300), 'nothing twice');
  assert.ok(await bob.nothing((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === 'alice@localhost/phone', 300), 'nobody was told alice left');

  // From now on the session lives on B, under the same JID, still available.
  const pong = await back.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(pong.attrs.to, 'alice@localhost/phone');
  await waitFor(async () => {
    const status = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text();
    return /^xmppd_routes 2$/m.test(status);
  }, CLUSTER_MS, 'node A to see two routes, alice\'s now on B');
  bob.send(`<message to='alice@localhost' type='chat' id='c3'><body>3</body></message>`);
  assert.equal((await back.expect(isMessage)).attrs.id, 'c3');
  const carol = await login(a, 'carol', 'web');
  carol.send(`<message to='alice@localhost/phone' type='chat' id='c4'><body>4</body></message>`);
  assert.equal((await back.expect(isMessage)).attrs.id, 'c4', 'node A routes to alice on B');
  // It can be resumed again, on B, with the same id.
  back.send(`<a xmlns='${NS_SM}' h='4'/>`);
  back.destroy();
  await back.closed;
  const again = await authenticated(a, 'alice');
  const r2 = again.expect(isSm('resumed'), 10_000);
  again.send(`<resume xmlns='${NS_SM}' previd='${id}' h='4'/>`);
  assert.equal((await r2).attrs.previd, id);
});

test('resuming on node B while the connection to node A still looks alive replaces that connection', async () => {
  const [a, b] = [world.a!, world.b!];
  const first = await login(a, 'bob', 'tablet');
  const id = await enableResumption(first);
  const second = await authenticated(b, 'bob');
  const resumed = second.expect(isSm('resumed'), 10_000);
  second.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
  await resumed;
  assert.equal(await first.expectStreamError(), 'conflict');
  const pong = await second.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(pong.attrs.to, 'bob@localhost/tablet');
});

test('sessions of a killed node: resumed from the replica on B, or their unacknowledged messages kept offline', async () => {
  const [a, b] = [world.a!, world.b!];
  const bob = await login(b, 'bob', 'watch');
  const carol = await login(a, 'carol', 'laptop');
  // bob's presence comes before <enable/>, so the first stanza counted is r1.
  await carol.expect((el) => el.name === 'presence' && el.attrs.from === 'bob@localhost/watch');
  const id = await enableResumption(carol);
  // dave asks for a short resumption time and never comes back.
  const dave = await login(a, 'dave', 'pad');
  const daveEnabled = dave.expect(isSm('enabled'));
  dave.send(`<enable xmlns='${NS_SM}' resume='true' max='2'/>`);
  await daveEnabled;
  await waitFor(async () => (await routeCount(b)) >= 3, CLUSTER_MS, 'node B to learn the routes of carol and dave');
  await bob.expect((el) => el.name === 'presence' && el.attrs.from === 'carol@localhost/laptop' && el.attrs.type === undefined);
  for (const n of [1, 2]) bob.send(`<message to='carol@localhost/laptop' type='chat' id='r${n}'><body>${n}</body></message>`);
  for (const n of [1, 2]) bob.send(`<message to='dave@localhost/pad' type='chat' id='d${n}'><body>${n}</body></message>`);
  assert.deepEqual([(await carol.expect(isMessage)).attrs.id, (await carol.expect(isMessage)).attrs.id], ['r1', 'r2']);
  assert.deepEqual([(await dave.expect(isMessage)).attrs.id, (await dave.expect(isMessage)).attrs.id], ['d1', 'd2']);
  // Carol acknowledges the first; the ack reaches B's replica within a turn.
  carol.send(`<a xmlns='${NS_SM}' h='1'/>`);
  await new Promise((r) => setTimeout(r, 500));

  await a.kill();
  world.a = null;
  const back = await authenticated(b, 'carol');
  const resumed = back.expect(isSm('resumed'), 20_000);
  back.send(`<resume xmlns='${NS_SM}' previd='${id}' h='1'/>`);
  assert.equal((await resumed).attrs.previd, id);
  assert.equal((await back.expect(isMessage)).attrs.id, 'r2', 'what A had sent and carol had not acknowledged');
  assert.ok(await back.nothing(isMessage, 300), 'nothing twice');
  // Whatever bob was told when A was found dead, carol is available to him in the end.
  await waitFor(async () => (await nodeStatus(b)).cluster?.members.length === 1, CLUSTER_MS, 'node B to find A gone');
  bob.send(`<presence type='probe' to='carol@localhost'/>`);
  await bob.expect((el) => el.name === 'presence' && el.attrs.from === 'carol@localhost/laptop' && el.attrs.type === undefined, 10_000);
  bob.send(`<message to='carol@localhost/laptop' type='chat' id='r3'><body>3</body></message>`);
  assert.equal((await back.expect(isMessage)).attrs.id, 'r3', 'carol is routed to on B');

  // dave's replica expired: his two unacknowledged messages wait offline for his next login.
  await new Promise((r) => setTimeout(r, 6_000));
  const daveAgain = await RawClient.login(b.c2sPort, 'dave', 'dave-pw', { resource: 'pad2', presence: true });
  world.clients.push(daveAgain);
  const offline = [(await daveAgain.expect(isMessage, 10_000)).attrs.id, (await daveAgain.expect(isMessage, 10_000)).attrs.id];
  assert.deepEqual(offline, ['d1', 'd2']);
});
