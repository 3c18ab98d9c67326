// X-Forwarded-For against a real server process: behind a trusted proxy (here the test
// itself, 127.0.0.1) each forwarded client counts as its own address for the per-address
// connection limit, over WebSocket and BOSH alike; from a peer that is not trusted the
// header is ignored; a wrong entry in xmpp.http.trusted-proxies is named in the log and
// the rest of the list still applies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';
import { BoshClient } from './bosh-client.ts';
import { WsClient } from './ws-client.ts';

/** The server polls properties every 2 s. */
const PROPERTY_POLL_MS = 2_500;

let server: TestServer;
const open: WsClient[] = [];

before(async () => {
  server = await startTestServer({
    properties: { 'xmpp.http.trusted-proxies': '127.0.0.1', 'xmpp.c2s.max-connections-per-ip': '1' },
  });
  for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
});

after(async () => {
  for (const c of open) c.ws.terminate();
  await server?.stop();
});

async function ws(forwardedFor: string): Promise<WsClient> {
  const c = await WsClient.connect(server.httpPort, { headers: { 'x-forwarded-for': forwardedFor } });
  open.push(c);
  return c;
}

async function refused(c: WsClient): Promise<void> {
  const error = await c.expect((el) => el.name === 'stream:error');
  assert.ok(error.getChild('policy-violation'), String(error));
  await c.closed;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('behind a trusted proxy each forwarded client has its own per-address limit, over WebSocket and BOSH', async () => {
  const alice = await ws('203.0.113.1');
  assert.equal(await alice.login('alice', 'secret'), 'alice@localhost/ws');
  // The left entry is what the client claimed; the proxy appended what it saw.
  const bob = await ws('198.51.100.99, 203.0.113.2');
  assert.equal(await bob.login('bob', 'secret'), 'bob@localhost/ws');
  await refused(await ws('203.0.113.1'));

  const bosh = { port: server.httpPort, headers: { 'x-forwarded-for': '203.0.113.3' } };
  const first = await BoshClient.create(bosh);
  assert.ok(first.sid);
  await assert.rejects(BoshClient.create(bosh), /policy-violation/, 'the same forwarded address again');
  await assert.rejects(BoshClient.create({ ...bosh, headers: { 'x-forwarded-for': '203.0.113.2' } }), /policy-violation/,
    "one limit across transports: bob's WebSocket has that address");
  await first.send('', { type: 'terminate' });

  await logged(/client logged in jid=alice@localhost\/ws transport=websocket address=203\.0\.113\.1/);
  await logged(/client logged in jid=bob@localhost\/ws transport=websocket address=203\.0\.113\.2/);
});

/** The server's output reaches the test a moment after its replies: wait for the line. */
async function logged(line: RegExp): Promise<void> {
  await waitFor(() => line.test(server.logs()), 5_000, `the log line ${line}`);
}

test('when nobody is trusted, the header is ignored: every client is the socket address', async () => {
  await server.setProperty('xmpp.http.trusted-proxies', '');
  await sleep(PROPERTY_POLL_MS);
  const carol = await ws('192.0.2.1');
  assert.equal(await carol.login('carol', 'secret'), 'carol@localhost/ws');
  await logged(/client logged in jid=carol@localhost\/ws transport=websocket address=127\.0\.0\.1/);
  await refused(await ws('192.0.2.2'));
  await assert.rejects(BoshClient.create({ port: server.httpPort, headers: { 'x-forwarded-for': '192.0.2.3' } }), /policy-violation/);
});

test('a list stored around the checks with a wrong entry is named in the log, and nobody is trusted then', async () => {
  // `xmppd property set` and the admin API refuse the entry (a cidr-list, test/cli/property-commands);
  // written straight into the database, the whole value is refused and the default applies.
  await server.setProperty('xmpp.http.trusted-proxies', '127.0.0.0/8, not-an-address, 10.0.0.0/40');
  await sleep(PROPERTY_POLL_MS);
  await logged(/WARN .*stored property value is invalid; using the default property=xmpp\.http\.trusted-proxies .*not-an-address/);
  // carol still holds 127.0.0.1's one connection, and with nobody trusted a forwarded client is 127.0.0.1 too.
  await refused(await ws('192.0.2.4'));
});
