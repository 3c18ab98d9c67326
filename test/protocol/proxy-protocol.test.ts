// The PROXY protocol on the client TCP listeners, against a real server process: the test
// plays the balancer, writing a version 1 or 2 header before the XMPP stream (before the
// TLS handshake on the direct TLS port). The address in the header is the one the
// per-address limits and the log see; a connection without a valid header is dropped
// without a byte in answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({
    env: { XMPPD_C2S_PROXY_PROTOCOL: 'true', XMPPD_C2S_TLS_PROXY_PROTOCOL: 'true' },
    properties: {
      'xmpp.c2s.max-connections-per-ip': '1',
      'xmpp.register.inband.enabled': 'true',
      'xmpp.register.inband.max-per-ip': '1',
    },
  });
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await server.addUser(u, 'secret');
});

after(async () => server?.stop());

const v1 = (source: string, port = 40000): Buffer =>
  Buffer.from(`PROXY ${source.includes(':') ? 'TCP6' : 'TCP4'} ${source} ${source.includes(':') ? '::1' : '127.0.0.1'} ${port} 5222\r\n`);

/** A version 2 header: PROXY over TCP/IPv4 or TCP/IPv6, or LOCAL when source is null. */
function v2(source: Buffer | null): Buffer {
  const signature = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
  if (!source) return Buffer.concat([signature, Buffer.from([0x20, 0x00, 0, 0])]);
  const block = Buffer.concat([source, Buffer.alloc(source.length), Buffer.from([0x9c, 0x40, 0x14, 0x66])]);
  return Buffer.concat([signature, Buffer.from([0x21, source.length === 4 ? 0x11 : 0x21, 0, block.length]), block]);
}

async function login(preamble: Buffer, user: string, opts: { directTls?: boolean; startTls?: boolean } = {}): Promise<RawClient> {
  const c = await RawClient.connect(opts.directTls ? server.c2sTlsPort : server.c2sPort, { preamble, directTls: opts.directTls });
  await c.open();
  if (opts.startTls) {
    await c.startTls();
    await c.open();
  }
  const result = await c.authPlain(user, 'secret');
  assert.equal(result.name, 'success', String(result));
  await c.open();
  await c.bind('pp');
  return c;
}

/** The connection ends without the server having written anything at all. */
async function droppedSilently(c: RawClient, withinMs: number): Promise<void> {
  const timer = setTimeout(() => c.destroy(), withinMs);
  await c.closed;
  clearTimeout(timer);
  assert.equal(c.received, '', 'no XMPP answer before the header');
}

/** The server's log reaches us through a pipe, a moment after the reply that follows it. */
async function logged(line: RegExp): Promise<void> {
  for (let i = 0; i < 40 && !line.test(server.logs()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(server.logs(), line);
}

/** The server counts a connection as gone once it sees the close. */
async function closeAndSettle(...clients: RawClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
  await new Promise((r) => setTimeout(r, 300));
}

test('version 1 header then a normal stream: the client logs in under its own address', async () => {
  const c = await login(v1('203.0.113.10'), 'alice');
  assert.equal(c.jid, 'alice@localhost/pp');
  const pong = await c.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
  assert.equal(pong.attrs.type, 'result');
  await logged(/client logged in jid=alice@localhost\/pp transport=tcp address=203\.0\.113\.10/);
  await closeAndSettle(c);
});

test('the per-address limit (1 here) counts the proxied address, not the balancer', async () => {
  const first = await login(v1('203.0.113.21'), 'bob');
  const second = await login(v1('203.0.113.22'), 'carol');
  const again = await RawClient.connect(server.c2sPort, { preamble: v1('203.0.113.21', 40001) });
  assert.equal(await again.expectStreamError(), 'policy-violation', 'refused as the limit always refuses');
  await again.closed;
  // Closing counts down the same address it counted up.
  await closeAndSettle(first);
  const third = await login(v1('203.0.113.21', 40002), 'bob');
  await closeAndSettle(second, third);
});

test('version 2 headers: IPv6 and IPv4 sources; LOCAL (a health check) is the socket address', async () => {
  const six = await login(v2(Buffer.from('20010db8000000000000000000000007', 'hex')), 'dave');
  await logged(/client logged in jid=dave@localhost\/pp transport=tcp address=2001:db8::7/);
  const four = await login(v2(Buffer.from([198, 51, 100, 30])), 'erin');
  await logged(/client logged in jid=erin@localhost\/pp transport=tcp address=198\.51\.100\.30/);
  const local = await login(v2(null), 'frank');
  await logged(/client logged in jid=frank@localhost\/pp transport=tcp address=127\.0\.0\.1/);
  await closeAndSettle(six, four, local);
});

test('STARTTLS works on a proxied connection', async () => {
  const c = await login(v1('203.0.113.40'), 'alice', { startTls: true });
  assert.equal(c.jid, 'alice@localhost/pp');
  await closeAndSettle(c);
});

test('direct TLS: the header, then the TLS handshake, then the stream', async () => {
  const one = await login(v1('203.0.113.50'), 'bob', { directTls: true });
  await logged(/client logged in jid=bob@localhost\/pp transport=tcp address=203\.0\.113\.50/);
  const two = await login(v2(Buffer.from([203, 0, 113, 51])), 'carol', { directTls: true });
  await logged(/client logged in jid=carol@localhost\/pp transport=tcp address=203\.0\.113\.51/);
  await closeAndSettle(one, two);
});

test('registration limits count the proxied address', async () => {
  const register = async (address: string, user: string): Promise<string> => {
    const c = await RawClient.connect(server.c2sPort, { preamble: v1(address) });
    await c.open();
    const answer = await c.iq(`<iq type='set'><query xmlns='jabber:iq:register'><username>${user}</username><password>pw</password></query></iq>`);
    await closeAndSettle(c);
    return answer.attrs.type === 'result' ? 'ok' : errorCondition(answer)!;
  };
  assert.equal(await register('192.0.2.60', 'newcomer1'), 'ok');
  assert.equal(await register('192.0.2.60', 'newcomer2'), 'resource-constraint', 'one account per address (the limit here)');
  assert.equal(await register('192.0.2.61', 'newcomer3'), 'ok', 'another address behind the same balancer');
});

test('a connection without the header is closed without an answer', async () => {
  const plain = await RawClient.connect(server.c2sPort);
  plain.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='localhost'>");
  await droppedSilently(plain, 2_000);

  // A direct TLS client that starts with its ClientHello: no handshake at all.
  await assert.rejects(RawClient.connect(server.c2sTlsPort, { directTls: true }));
});

test('a malformed header is closed at once; a silent peer after a few seconds', async () => {
  const bad = await RawClient.connect(server.c2sPort, { preamble: Buffer.from('PROXY TCP4 203.0.113.300 127.0.0.1 1 2\r\n') });
  bad.send("<?xml version='1.0'?>");
  await droppedSilently(bad, 2_000);

  const silent = await RawClient.connect(server.c2sPort);
  const started = Date.now();
  await droppedSilently(silent, 9_000);
  const waited = Date.now() - started;
  assert.ok(waited >= 4_000 && waited < 8_000, `closed after ${waited} ms`);
});
