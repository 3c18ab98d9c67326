// XEP-0280 Message Carbons against a real server process: enabling and disabling, received
// and sent copies among three resources of one account, which messages are copied, the
// <private/> element and the <no-copy/> hint, and a client that forges a copy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const isMessage = (el: Element): boolean => el.name === 'message';
const withId = (id: string) => (el: Element): boolean => isMessage(el) && el.attrs.id === id;
/** A carbon copy of the message with this id, in the given direction. */
const copyOf = (direction: 'sent' | 'received', id: string) => (el: Element): boolean =>
  isMessage(el) && forwarded(el, direction)?.attrs.id === id;

function forwarded(copy: Element, direction: 'sent' | 'received'): Element | undefined {
  return copy.getChild(direction, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message', 'jabber:client');
}

let server: TestServer;
let a1: RawClient;
let a2: RawClient;
let a3: RawClient;
let b1: RawClient;
let b2: RawClient;

async function enable(c: RawClient, what = 'enable'): Promise<Element> {
  return c.iq(`<iq type='set'><${what} xmlns='${CARBONS}'/></iq>`);
}

async function login(user: string, resource: string, presence = '<presence/>'): Promise<RawClient> {
  const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
  c.send(presence);
  await c.expect((el) => el.name === 'presence' && el.attrs.from === c.jid);
  return c;
}

before(async () => {
  server = await startTestServer();
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
  // a1 has the highest priority, so it alone takes messages to alice's bare JID.
  a1 = await login('alice', 'a1', '<presence><priority>1</priority></presence>');
  a2 = await login('alice', 'a2');
  a3 = await login('alice', 'a3');
  b1 = await login('bob', 'b1');
  b2 = await login('bob', 'b2');
  for (const c of [a1, a2, b1, b2]) assert.equal((await enable(c)).attrs.type, 'result');
});

after(async () => {
  for (const c of [a1, a2, a3, b1, b2]) await c?.close();
  await server?.stop();
});

test('the server advertises urn:xmpp:carbons:2', async () => {
  const info = await a1.iq(`<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === CARBONS));
});

test('enable and disable are idempotent; anything else, or for another account, is an error', async () => {
  assert.equal((await enable(a1)).attrs.type, 'result', 'enabling twice is no error');
  assert.equal((await enable(a3, 'disable')).attrs.type, 'result', 'disabling what is off is no error');
  const odd = await enable(a3, 'toggle');
  assert.equal(errorCondition(odd), 'bad-request');
  const foreign = await a3.iq(`<iq type='set' to='bob@localhost'><enable xmlns='${CARBONS}'/></iq>`);
  assert.equal(errorCondition(foreign), 'forbidden');
});

test('a message to one resource is copied as received to the other enabled resources, from the bare JID', async () => {
  b1.send(`<message to='alice@localhost/a1' type='chat' id='r1'><body>hello</body></message>`);
  assert.equal((await a1.expect(isMessage)).attrs.id, 'r1', 'the addressee gets the original');
  const copy = await a2.expect(isMessage);
  assert.equal(copy.attrs.from, 'alice@localhost');
  assert.equal(copy.attrs.to, a2.jid);
  assert.equal(copy.attrs.type, 'chat');
  const inner = forwarded(copy, 'received')!;
  assert.ok(inner, String(copy));
  assert.deepEqual([inner.attrs.id, inner.attrs.from, inner.attrs.to, inner.getChildText('body')], ['r1', b1.jid, 'alice@localhost/a1', 'hello']);
  // bob's other resource sees what b1 sent.
  const sent = await b2.expect(isMessage);
  assert.equal(sent.attrs.from, 'bob@localhost');
  assert.equal(forwarded(sent, 'sent')?.attrs.id, 'r1');
  assert.ok(await a3.nothing(isMessage, 300), 'a resource without carbons gets no copy');
  assert.ok(await a1.nothing(isMessage, 50), 'the addressee gets no copy of its own message');
  assert.ok(await b1.nothing(isMessage, 50), 'nor does the sender');
});

test('a message to the bare JID is copied to the enabled resources the delivery rules passed over', async () => {
  b2.send(`<message to='alice@localhost' type='chat' id='r2'><body>to the account</body></message>`);
  assert.equal((await a1.expect(isMessage)).attrs.id, 'r2');
  await a2.expect(copyOf('received', 'r2'));
  await b1.expect(copyOf('sent', 'r2'));
  // A chat to a resource that is gone falls back to the bare JID and is copied the same way.
  b2.send(`<message to='alice@localhost/gone' type='chat' id='r3'><body>fallback</body></message>`);
  assert.equal((await a1.expect(isMessage)).attrs.id, 'r3');
  await a2.expect(copyOf('received', 'r3'));
  await b1.expect(copyOf('sent', 'r3'));
  assert.ok(await a3.nothing(isMessage, 300));
});

test('what a resource sends is copied as sent to the other enabled resources, whether or not the sender enabled carbons', async () => {
  a3.send(`<message to='bob@localhost/b1' type='chat' id='s1'><body>from the third</body></message>`);
  assert.equal((await b1.expect(isMessage)).attrs.id, 's1');
  for (const c of [a1, a2]) {
    const copy = await c.expect(isMessage);
    assert.equal(copy.attrs.from, 'alice@localhost');
    assert.equal(copy.attrs.to, c.jid);
    const inner = forwarded(copy, 'sent')!;
    assert.deepEqual([inner.attrs.id, inner.attrs.from, inner.attrs.to], ['s1', a3.jid, 'bob@localhost/b1']);
  }
  await b2.expect(copyOf('received', 's1'));
  assert.ok(await a3.nothing(isMessage, 300), 'the sender gets no copy');
});

test('normal messages with a body are copied; without one, and headline, groupchat and error messages are not', async () => {
  b1.send(`<message to='alice@localhost/a1' id='n1'><body>normal</body></message>`);
  await a1.expect(withId('n1'));
  await a2.expect(copyOf('received', 'n1'));
  await b2.expect(copyOf('sent', 'n1'));
  b1.send(`<message to='alice@localhost/a1' id='n2'><received xmlns='urn:xmpp:receipts' id='n1'/></message>`);
  b1.send(`<message to='alice@localhost/a1' type='headline' id='n3'><body>news</body></message>`);
  b1.send(`<message to='alice@localhost/a1' type='error' id='n4'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
  await a1.expect(withId('n2'));
  await a1.expect(withId('n3'));
  await a1.expect(withId('n4'));
  assert.ok(await a2.nothing(isMessage, 400), 'nothing copied to alice');
  assert.ok(await b2.nothing(isMessage, 50), 'nothing copied to bob');
});

test('<private/> keeps a message from being copied on either side, and is removed before delivery', async () => {
  a1.send(`<message to='bob@localhost/b1' type='chat' id='p1'><body>secret</body><private xmlns='${CARBONS}'/></message>`);
  const m = await b1.expect(isMessage);
  assert.equal(m.attrs.id, 'p1');
  assert.equal(m.getChild('private', CARBONS), undefined, 'the recipient does not see <private/>');
  assert.equal(m.getChildText('body'), 'secret');
  assert.ok(await a2.nothing(isMessage, 400), 'no sent copy');
  assert.ok(await b2.nothing(isMessage, 50), 'no received copy');
});

test('the <no-copy/> hint keeps a message from being copied', async () => {
  b1.send(`<message to='alice@localhost/a1' type='chat' id='h1'><body>once</body><no-copy xmlns='urn:xmpp:hints'/></message>`);
  assert.equal((await a1.expect(isMessage)).attrs.id, 'h1');
  assert.ok(await a2.nothing(isMessage, 400));
  assert.ok(await b2.nothing(isMessage, 50));
});

test('a client cannot send a copy of its own making: it is refused with not-acceptable and reaches nobody', async () => {
  for (const direction of ['received', 'sent']) {
    const id = `forged-${direction}`;
    b1.send(`<message to='alice@localhost/a1' type='chat' id='${id}'><${direction} xmlns='${CARBONS}'><forwarded xmlns='${FORWARD}'>` +
      `<message xmlns='jabber:client' from='alice@localhost/a3' to='carol@localhost' type='chat'><body>I never wrote this</body></message>` +
      `</forwarded></${direction}></message>`);
    const error = await b1.expect(withId(id));
    assert.equal(error.attrs.type, 'error');
    assert.equal(errorCondition(error), 'not-acceptable');
  }
  // Nor from the account's own resource, to itself.
  a3.send(`<message to='alice@localhost/a1' type='chat' id='forged-self'><sent xmlns='${CARBONS}'><forwarded xmlns='${FORWARD}'>` +
    `<message xmlns='jabber:client' from='alice@localhost/a2' to='bob@localhost' type='chat'><body>fake</body></message></forwarded></sent></message>`);
  assert.equal(errorCondition(await a3.expect(withId('forged-self'))), 'not-acceptable');
  assert.ok(await a1.nothing(isMessage, 300), 'the addressee gets nothing');
  assert.ok(await a2.nothing(isMessage, 50));
  assert.ok(await b2.nothing(isMessage, 50));
});

test('after disable, a resource gets no more copies', async () => {
  assert.equal((await enable(a2, 'disable')).attrs.type, 'result');
  b1.send(`<message to='alice@localhost/a1' type='chat' id='d1'><body>after</body></message>`);
  assert.equal((await a1.expect(isMessage)).attrs.id, 'd1');
  await b2.expect(copyOf('sent', 'd1'));
  assert.ok(await a2.nothing(isMessage, 400));
  assert.equal((await enable(a2)).attrs.type, 'result');
  b1.send(`<message to='alice@localhost/a1' type='chat' id='d2'><body>again</body></message>`);
  await a2.expect(copyOf('received', 'd2'));
});

test('nothing above made the server log an error', () => {
  assert.doesNotMatch(server.logs(), / ERROR /);
});
