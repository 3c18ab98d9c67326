// XMPP over WebSocket (RFC 7395) against a real server process, frame by frame: the
// handshake rules, <open/>/<close/> framing, login with a restart, message exchange with a
// TCP user, stream errors, and ping-based dead peer detection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { NS_FRAMING, WsClient, refusedUpgrade } from './ws-client.ts';

let server: TestServer;
const clients: { close(): unknown }[] = [];

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.websocket.ping-interval': '1' } });
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
});

after(async () => {
  for (const c of clients) await Promise.resolve(c.close()).catch(() => {});
  await server?.stop();
});

async function connect(opts?: Parameters<typeof WsClient.connect>[1]): Promise<WsClient> {
  const c = await WsClient.connect(server.httpPort, opts);
  clients.push({ close: () => c.ws.terminate() });
  return c;
}

test('an upgrade without the xmpp subprotocol, on another path or from a refused origin is refused, saying why', async () => {
  const noProtocol = await refusedUpgrade(server.httpPort, {});
  assert.equal(noProtocol.status, 400);
  assert.match(noProtocol.body, /'xmpp' subprotocol/);
  const wrongProtocol = await refusedUpgrade(server.httpPort, { protocols: ['chat'] });
  assert.equal(wrongProtocol.status, 400);
  const wrongPath = await refusedUpgrade(server.httpPort, { path: '/websocket', protocols: ['xmpp'] });
  assert.equal(wrongPath.status, 404);
  assert.match(wrongPath.body, /\/ws/);

  await server.setProperty('xmpp.http.cors.origins', 'https://chat.example');
  await new Promise((r) => setTimeout(r, 2_500));
  try {
    const refused = await refusedUpgrade(server.httpPort, { protocols: ['xmpp'], origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /evil\.example/);
    const allowed = await connect({ origin: 'https://chat.example' });
    assert.equal(allowed.ws.protocol, 'xmpp');
  } finally {
    await server.setProperty('xmpp.http.cors.origins', '*');
    await new Promise((r) => setTimeout(r, 2_500));
  }
});

test('<open/> is answered with <open/> in the framing namespace and standalone stream features', async () => {
  const c = await connect();
  assert.equal(c.ws.protocol, 'xmpp', 'the server selects the xmpp subprotocol');
  const { open, features } = await c.open();
  assert.equal(open.attrs.xmlns, NS_FRAMING);
  assert.equal(open.attrs.from, 'localhost');
  assert.equal(open.attrs.version, '1.0');
  assert.ok(open.attrs.id);
  assert.equal(open.children.length, 0, '<open/> is an empty element');
  assert.equal(features.attrs['xmlns:stream'], 'http://etherx.jabber.org/streams', 'each frame declares its prefixes');
  assert.ok(features.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl'));
});

test('a WebSocket user logs in (with a restart) and exchanges messages with a TCP user', async () => {
  const ws = await connect();
  assert.equal(await ws.login('bob', 'secret'), 'bob@localhost/ws');
  const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'tcp' });
  clients.push(alice);

  alice.send(`<message to='bob@localhost/ws' type='chat'><body>to websocket</body></message>`);
  const msg = await ws.expect((el) => el.name === 'message');
  assert.equal(msg.getChildText('body'), 'to websocket');
  assert.equal(msg.attrs.xmlns, 'jabber:client', 'stanzas carry their namespace in each frame');

  ws.send(`<message xmlns='jabber:client' to='${alice.jid}' type='chat'><body>to tcp</body></message>`);
  const got = await alice.expect((el) => el.name === 'message');
  assert.equal(got.getChildText('body'), 'to tcp');
  assert.equal(got.attrs.from, 'bob@localhost/ws');

  const closing = ws.expect((el) => el.name === 'close');
  ws.send(`<close xmlns='${NS_FRAMING}'/>`);
  assert.equal((await closing).attrs.xmlns, NS_FRAMING, 'the server answers <close/> with <close/>');
  assert.equal((await ws.closed).code, 1000, 'and closes the WebSocket');
});

test('a frame that is not one well-formed element ends the stream with a stream error and <close/>', async () => {
  const c = await connect();
  await c.open();
  const error = c.expect((el) => el.name === 'stream:error');
  const close = c.expect((el) => el.name === 'close');
  c.send('<message><body>unclosed');
  const err = await error;
  assert.equal(err.attrs['xmlns:stream'], 'http://etherx.jabber.org/streams');
  assert.ok(err.getChild('not-well-formed', 'urn:ietf:params:xml:ns:xmpp-streams'), String(err));
  await close;
  await c.closed;
});

test('binary frames are refused with bad-format', async () => {
  const c = await connect();
  await c.open();
  const error = c.expect((el) => el.name === 'stream:error');
  c.ws.send(Buffer.from("<presence xmlns='jabber:client'/>"), { binary: true });
  assert.ok((await error).getChild('bad-format'));
  await c.closed;
});

test('stanzas before <open/> are refused', async () => {
  const c = await connect();
  const error = c.expect((el) => el.name === 'stream:error');
  c.send("<message xmlns='jabber:client' to='bob@localhost'><body>early</body></message>");
  assert.ok((await error).getChild('not-well-formed'));
  await c.closed;
});

test('a peer that does not answer pings is disconnected; one that does stays', async () => {
  const silent = await connect({ autoPong: false });
  const alive = await connect();
  const started = Date.now();
  await silent.closed;
  const took = Date.now() - started;
  assert.ok(took >= 900 && took < 6_000, `dead peer detected after ${took} ms`);
  assert.equal(alive.ws.readyState, alive.ws.OPEN, 'the answering peer is still connected');
  await alive.open();
});
