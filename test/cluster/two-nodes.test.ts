// Two real xmppd processes on one MariaDB database, clustered through a real Hazelcast member
// started from the official jar, with the clustering plugin dropped in as an operator would.
// Users on different nodes see each other's presence and exchange messages; a full JID bound
// on one node replaces the session on the other; clustering turned off and on again keeps
// every session; a node that dies is cleaned up once, by the survivor.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, friend, nodeStatus, routeCount, startClusterNode } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin, waitFor } from '../plugins/fixtures.ts';

/** Joining, leaving and failure detection are a matter of seconds; these bound the waits. */
const CLUSTER_MS = 30_000;

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
const nodes: Record<'a' | 'b', TestServer | null> = { a: null, b: null };
const clients: RawClient[] = [];

async function startNode(name: 'a' | 'b', properties?: Record<string, string>): Promise<TestServer> {
  const server = await startClusterNode(database, work, name, properties);
  nodes[name] = server;
  return server;
}

async function clusterOf(node: TestServer, size: number): Promise<void> {
  try {
    await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === size, CLUSTER_MS, `a cluster of ${size}`);
  } catch (err) {
    // What the node said about clustering is the useful part of a failure here.
    const said = node.logs().split('\n').filter((l) => /cluster|hazelcast|plugin/i.test(l)).slice(-30).join('\n');
    throw new Error(`${(err as Error).message}; the node logged:\n${said}`);
  }
}

async function login(node: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.login(node.c2sPort, user, `${user}-pw`, { resource, presence: true });
  clients.push(c);
  return c;
}

const presenceFrom = (jid: string, type?: string) => (el: { name: string; attrs: Record<string, string | undefined> }) =>
  el.name === 'presence' && el.attrs.from === jid && el.attrs.type === type;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-cluster-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
  const a = await startNode('a', {
    ...clusterProperties(work, hazelcast),
    'hazelcast.heartbeat.seconds': '1',
    'hazelcast.node.timeout.seconds': '3',
    ...ADMIN_PROPERTIES,
  });
  await startNode('b');
  const storage = await a.storage();
  for (const user of ['alice', 'bob', 'carol']) await a.addUser(user, `${user}-pw`);
  await a.addUser('admin', ADMIN_USER[1]);
  await storage.roster.put('alice', friend('bob@localhost'));
  await storage.roster.put('bob', friend('alice@localhost'));
});

after(async () => {
  for (const c of clients) c.destroy();
  for (const n of Object.values(nodes)) await n?.stop().catch(() => undefined);
  await hazelcast?.stop();
  await database?.drop();
  rmSync(work, { recursive: true, force: true });
});

test('both nodes join one cluster; the first is the senior; /status says so', async () => {
  const { a, b } = nodes as Record<'a' | 'b', TestServer>;
  await clusterOf(a, 2);
  await clusterOf(b, 2);
  const seen = await nodeStatus(b);
  assert.deepEqual(seen.cluster!.members.map((m) => m.nodeId), ['node-a', 'node-b']);
  assert.equal(seen.cluster!.seniorNodeId, 'node-a');
  assert.equal(seen.state, 'running');
});

test('users on different nodes see each other\'s presence and exchange messages by full and bare JID', async () => {
  const { a, b } = nodes as Record<'a' | 'b', TestServer>;
  const alice = await login(a, 'alice', 'desk');
  await waitFor(async () => (await routeCount(b)) >= 1, CLUSTER_MS, 'node B to learn alice\'s route');
  const bob = await login(b, 'bob', 'phone');
  // Bob's probe is answered from the presence alice's node published; alice hears bob's broadcast.
  await bob.expect(presenceFrom('alice@localhost/desk'));
  await alice.expect(presenceFrom('bob@localhost/phone'));

  alice.send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>to the full JID</body></message>`);
  const m1 = await bob.expect((el) => el.name === 'message' && el.attrs.id === 'm1');
  assert.equal(m1.attrs.from, 'alice@localhost/desk');
  assert.equal(m1.getChildText('body'), 'to the full JID');
  bob.send(`<message to='alice@localhost' type='chat' id='m2'><body>to the bare JID</body></message>`);
  assert.equal((await alice.expect((el) => el.name === 'message' && el.attrs.id === 'm2')).attrs.from, 'bob@localhost/phone');

  // Non-ASCII text crosses as it was written, and so does a stanza near xmpp.stanza.max-bytes
  // (262,144 by default; node A stamps a from attribute, so a little room is left for it).
  const text = 'Grüße, Жанна! ☃ 𝄞 <&> \'"';
  alice.send(`<message to='bob@localhost/phone' type='chat' id='u1'><body>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;')}</body></message>`);
  assert.equal((await bob.expect((el) => el.name === 'message' && el.attrs.id === 'u1')).getChildText('body'), text);
  const chunk = 'Ĉiu ŝafo ☃ ';
  const head = `<message to='bob@localhost/phone' type='chat' id='big'><body>`;
  const tail = '</body></message>';
  const room = 262_144 - 200 - Buffer.byteLength(head + tail);
  let body = chunk.repeat(Math.floor(room / Buffer.byteLength(chunk)));
  body += 'x'.repeat(room - Buffer.byteLength(body));
  alice.send(head + body + tail);
  const big = await bob.expect((el) => el.name === 'message' && el.attrs.id === 'big');
  assert.equal(big.getChildText('body'), body, 'the large stanza arrived whole');
  assert.ok(Buffer.byteLength(head + body + tail) > 261_000);

  // An IQ to a full JID on the other node, and its answer back.
  alice.send(`<iq type='get' to='bob@localhost/phone' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
  const iq = await bob.expect((el) => el.name === 'iq' && el.attrs.id === 'v1');
  bob.send(`<iq type='result' to='${iq.attrs.from}' id='v1'><query xmlns='jabber:iq:version'><name>test</name><version>1</version></query></iq>`);
  assert.equal((await alice.expect((el) => el.name === 'iq' && el.attrs.id === 'v1')).attrs.type, 'result');
});

test('binding a full JID held on the other node replaces that session there', async () => {
  const { a, b } = nodes as Record<'a' | 'b', TestServer>;
  const first = await login(a, 'carol', 'laptop');
  await waitFor(async () => (await routeCount(b)) >= 3, CLUSTER_MS, 'node B to learn carol\'s route');
  const second = await login(b, 'carol', 'laptop');
  assert.equal(await first.expectStreamError(10_000), 'conflict');
  second.send(`<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal((await second.expect((el) => el.attrs.id === 'p1')).attrs.type, 'result');
  await second.close();
});

test('roster and block list changes made on one node reach the account\'s resources on the other', async () => {
  const b = nodes.b!;
  const desk = clients[0]!;
  const tablet = await login(b, 'alice', 'tablet');
  for (const c of [desk, tablet]) {
    assert.equal((await c.iq(`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`)).attrs.type, 'result');
    assert.equal((await c.iq(`<iq type='get'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)).attrs.type, 'result');
  }
  // Node B has alice's roster and block list in memory now; the changes come from node A.
  desk.send(`<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='dave@localhost' name='Dave'/></query></iq>`);
  const rosterPush = await tablet.expect((el) => el.name === 'iq' && el.attrs.type === 'set' && !!el.getChild('query', 'jabber:iq:roster'));
  assert.equal(rosterPush.getChild('query')!.getChild('item')!.attrs.jid, 'dave@localhost');

  const carol = await login(b, 'carol', 'phone');
  desk.send(`<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='carol@localhost'/></block></iq>`);
  await desk.expect((el) => el.attrs.id === 'b1');
  const blockPush = await tablet.expect((el) => el.name === 'iq' && !!el.getChild('block', 'urn:xmpp:blocking'));
  assert.equal(blockPush.getChild('block')!.getChild('item')!.attrs.jid, 'carol@localhost');
  // Node B enforces the new list: carol's message to alice bounces there.
  carol.send(`<message to='alice@localhost/tablet' type='chat' id='c1'><body>hello?</body></message>`);
  const bounced = await carol.expect((el) => el.attrs.id === 'c1');
  assert.equal(bounced.attrs.type, 'error');
  assert.ok(await tablet.nothing((el) => el.attrs.id === 'c1', 500), 'the blocked message is not delivered');
  await Promise.all([tablet.close(), carol.close()]);
});

test('an administrator on one node sees the sessions of both and ends one held by the other', async () => {
  const { a, b } = nodes as Record<'a' | 'b', TestServer>;
  const carol = await login(b, 'carol', 'tablet');
  await waitFor(async () => (await admin(a.adminPort, 'GET', '/api/online?user=carol')).body.sessions?.length === 1, CLUSTER_MS, 'node A to list carol');
  const online = (await admin(a.adminPort, 'GET', '/api/online')).body.sessions as { jid: string; node: string }[];
  assert.deepEqual(online.map((s) => [s.jid, s.node]), [
    ['alice@localhost/desk', 'node-a'], ['bob@localhost/phone', 'node-b'], ['carol@localhost/tablet', 'node-b'],
  ]);
  assert.equal((await admin(a.adminPort, 'DELETE', `/api/online/${encodeURIComponent('carol@localhost/tablet')}`)).status, 204);
  assert.equal(await carol.expectStreamError(), 'policy-violation');
  await waitFor(async () => (await routeCount(a)) === 2, CLUSTER_MS, 'carol\'s route to go');
});

test('clustering turned off and on again: every node follows within seconds, and no session is dropped', async () => {
  const { a, b } = nodes as Record<'a' | 'b', TestServer>;
  const [alice, bob] = clients as [RawClient, RawClient];
  await a.setProperty('clustering.enabled', 'false');
  await waitFor(async () => !(await nodeStatus(a)).cluster && !(await nodeStatus(b)).cluster, CLUSTER_MS, 'both nodes to be standalone');
  // Standalone, each node knows only its own sessions.
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m3'><body>while apart</body></message>`);
  assert.equal(await bob.nothing((el) => el.attrs.id === 'm3', 1_000), true, 'nothing crosses while clustering is off');
  assert.equal(await (await a.storage()).offline.count('bob'), 0, 'bob is most likely still online: the message waits for his route');

  await a.setProperty('clustering.enabled', 'true');
  await clusterOf(a, 2);
  await clusterOf(b, 2);
  await waitFor(async () => (await routeCount(a)) >= 2 && (await routeCount(b)) >= 2, CLUSTER_MS, 'the routes to be shared again');
  await bob.expect((el) => el.attrs.id === 'm3', CLUSTER_MS);
  alice.send(`<message to='bob@localhost/phone' type='chat' id='m4'><body>together again</body></message>`);
  await bob.expect((el) => el.attrs.id === 'm4');
});

test('a node that dies is cleaned up by the senior: contacts hear it went unavailable, messages go offline', async () => {
  const { a, b } = nodes as Record<'a' | 'b', TestServer>;
  const alice = clients[0]!;
  const from = a.logs().length;
  await b.kill();
  // Until its entry expires the dead node is still in the cluster: each stanza for it fails
  // on its own, and the log says so once, not once per stanza.
  for (let i = 0; i < 20; i++) alice.send(`<iq type='get' to='bob@localhost/phone' id='dead-${i}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  const bounced = await alice.expect((el) => el.name === 'iq' && el.attrs.id === 'dead-19', CLUSTER_MS);
  assert.equal(bounced.attrs.type, 'error');
  await alice.expect(presenceFrom('bob@localhost/phone', 'unavailable'), CLUSTER_MS);
  const unreachable = a.logs().slice(from).match(/cluster link: cannot reach node/g) ?? [];
  assert.equal(unreachable.length, 1, `one warning for twenty stanzas:\n${a.logs().slice(from)}`);
  await clusterOf(a, 1);
  assert.equal(await routeCount(a), 1, 'only alice is left');
  assert.equal(await alice.nothing(presenceFrom('bob@localhost/phone', 'unavailable'), 1_000), true, 'told once');

  alice.send(`<message to='bob@localhost' type='chat' id='m5'><body>while you were gone</body></message>`);
  await waitFor(async () => (await (await a.storage()).offline.count('bob')) === 1, CLUSTER_MS, 'the message to be stored offline');
  const bob = await login(a, 'bob', 'phone');
  const m5 = await bob.expect((el) => el.attrs.id === 'm5');
  assert.equal(m5.getChildText('body'), 'while you were gone');
});
