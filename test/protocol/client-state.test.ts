// Client state indication (XEP-0352) against a real server process: while inactive, presence
// updates (the latest per sender) and chat states are held, and sent in order on <active/>,
// before anything urgent, or when over xmpp.csi.max-held; stream management counts only
// what was actually sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS_CSI = 'urn:xmpp:csi:0';
const NS_SM = 'urn:xmpp:sm:3';
const composing = "<composing xmlns='http://jabber.org/protocol/chatstates'/>";
const isStanza = (el: Element): boolean => el.name === 'message' || el.name === 'presence';
/** What a test compares: kind, sender's resource, and the status or id. */
const label = (el: Element): string => `${el.name} ${el.attrs.from?.split('/')[1]} ${el.getChildText('status') ?? el.attrs.id}`;

let server: TestServer;
let alice: RawClient;
let bob1: RawClient;
let bob2: RawClient;

async function received(c: RawClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(label(await c.expect(isStanza)));
  return out;
}

/** A round trip to the server: everything the clients sent before has been routed. */
async function settled(...clients: RawClient[]): Promise<void> {
  for (const c of clients) await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
}

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.csi.max-held': '4' } });
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
  alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'phone' });
  bob1 = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'one' });
  bob2 = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'two' });
});

after(async () => {
  for (const c of [alice, bob1, bob2]) await c?.close();
  await server?.stop();
});

test('the csi feature is offered after authentication', async () => {
  const c = await RawClient.connect(server.c2sPort);
  assert.equal((await c.open()).getChild('csi', NS_CSI), undefined);
  await c.authPlain('alice', 'secret');
  assert.ok((await c.open()).getChild('csi', NS_CSI));
  await c.close();
});

test('while inactive, presence (latest per sender) and chat states wait for <active/>, then come in order', async () => {
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  bob1.send(`<presence to='${alice.jid}'><status>a</status></presence>`);
  bob1.send(`<message to='${alice.jid}' type='chat' id='cs1'>${composing}</message>`);
  await settled(bob1);
  bob2.send(`<presence to='${alice.jid}'><status>other</status></presence>`);
  await settled(bob2);
  bob1.send(`<presence to='${alice.jid}'><status>b</status></presence>`);
  bob1.send(`<presence to='${alice.jid}'><status>c</status></presence>`);
  await settled(bob1);
  assert.ok(await alice.nothing(isStanza, 300), 'nothing is sent while inactive');
  alice.send(`<active xmlns='${NS_CSI}'/>`);
  assert.deepEqual(await received(alice, 3), ['message one cs1', 'presence two other', 'presence one c']);
  assert.ok(await alice.nothing(isStanza, 200), 'superseded updates are not sent');
  bob1.send(`<presence to='${alice.jid}'><status>d</status></presence>`);
  assert.deepEqual(await received(alice, 1), ['presence one d'], 'active again: sent at once');
});

test('something urgent sends what was held first, then itself', async () => {
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  bob1.send(`<presence to='${alice.jid}'><status>e</status></presence>`);
  await settled(bob1);
  bob2.send(`<message to='${alice.jid}' type='chat' id='cs2'>${composing}</message>`);
  await settled(bob2);
  bob1.send(`<message to='${alice.jid}' type='chat' id='urgent'><body>now</body></message>`);
  assert.deepEqual(await received(alice, 3), ['presence one e', 'message two cs2', 'message one urgent']);
  // An IQ is urgent too.
  bob1.send(`<presence to='${alice.jid}'><status>f</status></presence>`);
  await settled(bob1);
  const iq = alice.expect((el) => el.name === 'iq' && el.attrs.id === 'v1');
  bob1.send(`<iq to='${alice.jid}' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
  assert.deepEqual(await received(alice, 1), ['presence one f']);
  await iq;
  alice.send(`<active xmlns='${NS_CSI}'/>`);
});

test('over xmpp.csi.max-held everything held is sent', async () => {
  alice.send(`<inactive xmlns='${NS_CSI}'/>`);
  for (let i = 1; i <= 4; i++) bob1.send(`<message to='${alice.jid}' type='chat' id='s${i}'>${composing}</message>`);
  await settled(bob1);
  assert.ok(await alice.nothing(isStanza, 200));
  bob1.send(`<message to='${alice.jid}' type='chat' id='s5'>${composing}</message>`);
  assert.deepEqual(await received(alice, 5), ['message one s1', 'message one s2', 'message one s3', 'message one s4', 'message one s5']);
  alice.send(`<active xmlns='${NS_CSI}'/>`);
});

test('stream management counts what was sent, not what is held', async () => {
  const carol = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'counted' });
  const enabled = carol.expect((el) => el.name === 'enabled');
  carol.send(`<enable xmlns='${NS_SM}'/>`);
  await enabled;
  carol.send(`<inactive xmlns='${NS_CSI}'/>`);
  bob1.send(`<presence to='${carol.jid}'><status>held</status></presence>`);
  await settled(bob1);
  carol.send(`<a xmlns='${NS_SM}' h='1'/>`);
  const failed = await carol.expect((el) => el.name === 'failed');
  assert.equal(failed.getChild('handled-count-too-high', NS_SM)?.attrs['send-count'], '0', 'the held presence was not counted');
  await carol.closed;
});
