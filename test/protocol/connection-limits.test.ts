// The client listeners' connection limits against a real server process: connections that
// never start their TLS handshake are dropped at xmpp.tls.handshake-timeout and count for
// their address from accept (xmpp.c2s.max-connections-per-ip); the node-wide cap
// (xmpp.c2s.max-connections) closes new sockets at accept while the admin listener keeps
// answering, and lets clients in again once connections close.
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { RawClient } from '../helpers/raw-client.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP connection that never sends a byte (no ClientHello); `closedAfter` is ms from connect to close. */
interface Silent { socket: net.Socket; closedAfter: Promise<number> }

async function silent(port: number): Promise<Silent> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const connected = Date.now();
  return { socket, closedAfter: new Promise((resolve) => socket.once('close', () => resolve(Date.now() - connected))) };
}

/** Answers any request: the admin listener serves the console (or says it was not built). */
async function adminAnswers(server: TestServer): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${server.adminPort}/`);
  await res.arrayBuffer();
  return res.status === 200 || res.status === 503;
}

/** A full login over direct TLS. */
async function loginDirectTls(server: TestServer, user: string): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sTlsPort, { directTls: true });
  await c.open();
  assert.equal((await c.authPlain(user, 'secret')).name, 'success');
  await c.open();
  await c.bind('tls');
  return c;
}

/** GET /status over TLS (the test server's certificate is self-signed). */
function statusOverHttps(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/status', rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** One value of a Prometheus text exposition. */
async function metric(server: TestServer, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? NaN : Number(found.slice(line.length + 1));
}

describe('connections that never start their TLS handshake', () => {
  let server: TestServer;
  let httpsPort: number;

  before(async () => {
    httpsPort = await freePort();
    server = await startTestServer({
      env: { XMPPD_HTTPS_ENABLED: 'true', XMPPD_HTTPS_HOST: '127.0.0.1', XMPPD_HTTPS_PORT: String(httpsPort) },
      properties: { 'xmpp.tls.handshake-timeout': '2', 'xmpp.c2s.max-connections-per-ip': '0' },
    });
    for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
  });
  after(() => server?.stop());

  test('hundreds on direct TLS and HTTPS are dropped at the deadline; clients and the admin listener are served meanwhile', async () => {
    const started = Date.now();
    const direct = await Promise.all(Array.from({ length: 300 }, () => silent(server.c2sTlsPort)));
    const web = await Promise.all(Array.from({ length: 100 }, () => silent(httpsPort)));
    const opened = Date.now() - started;

    // While all of them wait, the node serves everyone else.
    const plain = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'plain' });
    const secured = await loginDirectTls(server, 'bob');
    const pong = await secured.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.equal(pong.attrs.type, 'result');
    assert.ok(await adminAnswers(server), 'the admin listener answers');
    assert.equal(await statusOverHttps(httpsPort), 200, 'the HTTPS listener serves a client that does its handshake');

    const waited = await Promise.all([...direct, ...web].map((s) => s.closedAfter));
    const earliest = Math.min(...waited);
    const latest = Math.max(...waited);
    // The deadline is 2 s from accept (Node's own default would have been 120 s).
    assert.ok(earliest >= 1_500 - opened, `the first was dropped after ${earliest} ms`);
    assert.ok(latest < 10_000, `the last was dropped after ${latest} ms`);
    // The logged-in clients were not touched.
    assert.equal((await plain.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")).attrs.type, 'result');
    await Promise.all([plain.close(), secured.close()]);
    // Every socket, TLS or not, is counted down when it closes.
    for (let i = 0; i < 50 && (await metric(server, 'xmppd_connections{transport="tcp"}')) !== 0; i++) await sleep(100);
    assert.equal(await metric(server, 'xmppd_connections{transport="tcp"}'), 0);
    const sockets = await metric(server, 'xmppd_client_sockets');
    assert.ok(sockets >= 1 && sockets < 10, `${sockets} client sockets open: the test's own HTTP requests`);
  });

  test('the deadline runs from accept: trickling a ClientHello byte by byte does not extend it', async () => {
    const trickler = await silent(server.c2sTlsPort);
    // A TLS handshake record announcing 512 bytes, then the start of a ClientHello.
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Array(64).fill(7)]);
    let i = 0;
    const drip = setInterval(() => { if (!trickler.socket.destroyed) trickler.socket.write(hello.subarray(i, ++i)); }, 200);
    const waited = await trickler.closedAfter;
    clearInterval(drip);
    assert.ok(i > 5, `${i} bytes were sent`);
    assert.ok(waited >= 1_500 && waited < 6_000, `dropped after ${waited} ms`);
  });
});

describe('connections count for their address from accept', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      properties: { 'xmpp.tls.handshake-timeout': '5', 'xmpp.c2s.max-connections-per-ip': '10' },
    });
    await server.addUser('alice', 'secret');
  });
  after(() => server?.stop());

  test('ten connections in their TLS handshake use up the address; one more is dropped at once', async () => {
    const waiting = await Promise.all(Array.from({ length: 10 }, () => silent(server.c2sTlsPort)));
    // Counted as TCP connections from accept, before any TLS.
    for (let i = 0; i < 50 && (await metric(server, 'xmppd_connections{transport="tcp"}')) !== 10; i++) await sleep(100);
    assert.equal(await metric(server, 'xmppd_connections{transport="tcp"}'), 10);

    const refused = await RawClient.connect(server.c2sPort);
    assert.equal(await refused.expectStreamError(), 'policy-violation', 'a plain stream is told why');
    await refused.closed;
    const extra = await silent(server.c2sTlsPort);
    const dropped = await extra.closedAfter;
    assert.ok(dropped < 1_000, `the extra direct TLS connection was dropped after ${dropped} ms, not at the deadline`);

    await Promise.all(waiting.map((s) => s.closedAfter));
    for (let i = 0; i < 50 && (await metric(server, 'xmppd_connections{transport="tcp"}')) !== 0; i++) await sleep(100);
    const alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
    assert.ok(alice.jid.startsWith('alice@localhost/'), 'the address is free again once they are gone');
    await alice.close();
  });
});

describe('the node-wide connection cap', () => {
  let server: TestServer;
  const CAP = 20;

  before(async () => {
    server = await startTestServer({
      properties: { 'xmpp.c2s.max-connections': String(CAP), 'xmpp.c2s.max-connections-per-ip': '0' },
    });
    await server.addUser('alice', 'secret');
  });
  after(() => server?.stop());

  test('refuses connections over it at accept, keeps the admin listener, and accepts again below it', async () => {
    const held = await Promise.all(Array.from({ length: CAP }, () => RawClient.connect(server.c2sPort)));
    for (const c of held) assert.ok((await c.open()).getChild('mechanisms'), 'under the cap, streams open');

    // Over it, on every client listener: closed without a byte.
    const over = await RawClient.connect(server.c2sPort);
    await over.closed;
    assert.equal(over.received, '');
    await assert.rejects(fetch(`http://127.0.0.1:${server.httpPort}/status`), 'the client HTTP listener is full too');
    await assert.rejects(new Promise((resolve, reject) => {
      const s = tls.connect({ port: server.c2sTlsPort, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    }), 'and direct TLS');
    assert.ok(await adminAnswers(server), 'the admin listener is not counted and still answers');
    // Logged once for the interval, not once per refused socket.
    await sleep(200);
    assert.equal(server.logs().match(/refusing new client connections/g)?.length, 1, server.logs().slice(-2000));

    for (const c of held.splice(0, 5)) c.destroy();
    let again: RawClient | null = null;
    for (let i = 0; i < 50 && !again; i++) {
      const c = await RawClient.connect(server.c2sPort);
      try {
        await c.open();
        again = c;
      } catch {
        await sleep(100);
      }
    }
    assert.ok(again, 'a client gets in again once connections closed');
    assert.equal((await again.authPlain('alice', 'secret')).name, 'success');
    for (const c of [...held, again]) c.destroy();
  });
});
