// The client HTTP service over TLS (listeners.https) against a real server process: BOSH
// over https:// and WebSocket over wss:// log in with the node's certificate while the
// plain listener keeps serving, both ports report the same shared figures, and a node
// with the default configuration opens no HTTPS port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Element } from '../../server/xml/element.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server-process.ts';
import { BoshClient } from './bosh-client.ts';
import { WsClient } from './ws-client.ts';

const mechanismsOf = (features: Element | undefined): string[] =>
  features?.getChild('mechanisms')?.getChildren('mechanism').map((m) => m.getText()) ?? [];

interface Answer { status: number; body: string; certificate: { subjectaltname?: string } }

/** GET over TLS, accepting the test server's self-signed certificate, which it returns too. */
function getTls(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      const certificate = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, certificate }));
    }).on('error', reject);
  });
}

const metric = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe('a node with the HTTPS listener enabled', () => {
  let server: TestServer;
  let httpsPort: number;
  const closers: (() => unknown)[] = [];

  before(async () => {
    httpsPort = await freePort();
    server = await startTestServer({
      env: {
        XMPPD_HTTPS_ENABLED: 'true',
        XMPPD_HTTPS_HOST: '127.0.0.1',
        XMPPD_HTTPS_PORT: String(httpsPort),
        // PLAIN only where the node sees TLS: the features then show which streams it does.
        XMPPD_ALLOW_PLAINTEXT_AUTH: 'false',
      },
    });
    for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
  });

  after(async () => {
    for (const close of closers) await Promise.resolve(close()).catch(() => {});
    await server?.stop();
  });

  test('announces both web addresses', () => {
    assert.match(server.logs(), new RegExp(`web clients: http://0\\.0\\.0\\.0:${server.httpPort}/http-bind`));
    assert.match(server.logs(), new RegExp(`web clients \\(TLS\\): https://127\\.0\\.0\\.1:${httpsPort}/http-bind \\(BOSH\\), wss://127\\.0\\.0\\.1:${httpsPort}/ws`));
  });

  test('BOSH over https:// and WebSocket over wss:// log in and talk, while plain http serves too', async () => {
    const tlsBosh = await BoshClient.create({ port: httpsPort, secure: true }, { wait: 5 });
    closers.push(() => tlsBosh.send('', { type: 'terminate' }));
    assert.ok(mechanismsOf(tlsBosh.creation!.body.getChild('features')).includes('PLAIN'), 'a BOSH session over https is a TLS stream');
    assert.equal(await tlsBosh.login('alice', 'secret', 'bosh-tls'), 'alice@localhost/bosh-tls');

    const wss = await WsClient.connect(httpsPort, { secure: true });
    closers.push(() => wss.ws.terminate());
    assert.equal(await wss.login('bob', 'secret', 'wss'), 'bob@localhost/wss');

    wss.send(`<message xmlns='jabber:client' to='alice@localhost/bosh-tls' type='chat'><body>over wss</body></message>`);
    const got = await tlsBosh.until((el) => el.name === 'message');
    assert.equal(got.getChildText('body'), 'over wss');
    assert.equal(got.attrs.from, 'bob@localhost/wss');

    // The plain listener at the same time: sessions open there, without PLAIN (no TLS).
    const plainBosh = await BoshClient.create(server.httpPort, { wait: 5 });
    closers.push(() => plainBosh.send('', { type: 'terminate' }));
    const plainMechanisms = mechanismsOf(plainBosh.creation!.body.getChild('features'));
    assert.ok(plainMechanisms.includes('SCRAM-SHA-256') && !plainMechanisms.includes('PLAIN'), plainMechanisms.join());
    const ws = await WsClient.connect(server.httpPort);
    closers.push(() => ws.ws.terminate());
    assert.deepEqual(mechanismsOf((await ws.open()).features).includes('PLAIN'), false);
  });

  test('/status and /metrics over https use the node certificate and count what both listeners carry', async () => {
    const tlsStatus = await getTls(httpsPort, '/status');
    assert.equal(tlsStatus.status, 200);
    assert.match(tlsStatus.certificate.subjectaltname ?? '', /DNS:localhost/, 'the certificate is the node\'s');
    const viaTls = JSON.parse(tlsStatus.body) as { connections: Record<string, { current: number }>; sessions: number };
    const viaPlain = await (await fetch(`http://127.0.0.1:${server.httpPort}/status`)).json() as typeof viaTls;
    // One BOSH session on each listener, one WebSocket on each; two bound sessions.
    assert.equal(viaTls.connections.bosh!.current, 2);
    assert.equal(viaTls.connections.websocket!.current, 2);
    assert.equal(viaTls.sessions, 2);
    assert.deepEqual(viaPlain.connections, viaTls.connections);

    const tlsMetrics = (await getTls(httpsPort, '/metrics')).body;
    const plainMetrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    for (const m of [tlsMetrics, plainMetrics]) {
      assert.equal(metric(m, 'xmppd_bosh_sessions'), 2, 'BOSH sessions of both listeners');
      assert.equal(metric(m, 'xmppd_connections{transport="websocket"}'), 2);
      assert.equal(m.match(/^# TYPE xmppd_routing_seconds histogram$/gm)?.length, 1, 'each metric once');
    }
  });
});

test('the default configuration opens no HTTPS listener', async () => {
  const server = await startTestServer();
  try {
    assert.doesNotMatch(server.logs(), /https:\/\/|wss:\/\//);
    // Were 7443 held by the node (on 0.0.0.0), binding it here would fail.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(7443, '127.0.0.1', resolve);
    });
    await new Promise((r) => probe.close(r));
    assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/healthz`)).status, 200);
  } finally {
    await server.stop();
  }
});
