// The admin listener of a real server process as a browser, a proxy or a script meets it: the
// Host header it answers to (DNS rebinding), uploads that announce no length.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { ADMIN_PROPERTIES, ADMIN_USER } from '../plugins/fixtures.ts';

let server: TestServer;
const AUTH = `Basic ${Buffer.from(`${ADMIN_USER[0]}:${ADMIN_USER[1]}`).toString('base64')}`;

before(async () => {
  server = await startTestServer({ properties: ADMIN_PROPERTIES, env: { XMPPD_LOG_LEVEL: 'debug' } });
  await server.addUser('admin', ADMIN_USER[1]);
});

after(async () => {
  await server?.stop();
});

interface Answer { status: number; headers: http.IncomingHttpHeaders; text: string }

/** One request with exactly the headers given (fetch() does not let a test set Host). */
function request(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.adminPort, path, method, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the listener answers to its addresses and localhost names, whatever the port, and refuses other names (DNS rebinding)', async () => {
  const port = server.adminPort;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost:9091', `[::1]:${port}`, `console.localhost:${port}`, 'LOCALHOST.']) {
    const res = await request('/api/status', { host, authorization: AUTH });
    assert.equal(res.status, 200, `${host}: ${res.text}`);
  }
  for (const host of [`evil.example:${port}`, `rebind.127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, 'not a host']) {
    for (const [method, path, body] of [['GET', '/api/status'], ['GET', '/'], ['POST', '/api/session', JSON.stringify({ jid: 'admin', password: ADMIN_USER[1] })]] as const) {
      const res = await request(path, { host, authorization: AUTH, 'content-type': 'application/json' }, method, body);
      assert.equal(res.status, 421, `${host} ${method} ${path}: ${res.text}`);
      assert.equal(res.text.split('\n').length, 1, 'one line');
      const error = JSON.parse(res.text);
      assert.equal(error.code, 'HOST_NOT_ALLOWED');
      assert.match(error.message, /is not a name of this admin listener: .*admin\.allowed-hosts/);
      assert.equal(res.headers['set-cookie'], undefined, 'no session was opened');
    }
  }
  assert.match(server.logs(), /DEBUG \[admin\] admin request refused: Host not allowed host=evil\.example:\d+/);
  assert.doesNotMatch(server.logs(), /ERROR/);
});

test('names listed in admin.allowed-hosts are served, for a reverse proxy that passes its Host on', async () => {
  assert.equal((await request('/api/status', { host: 'admin.example.com', authorization: AUTH })).status, 421);
  await server.setProperty('admin.allowed-hosts', 'admin.example.com, .ops.example');
  await pause(2_500);
  try {
    for (const host of ['admin.example.com', 'Admin.Example.com:443', 'ops.example', 'xmpp1.ops.example:9090']) {
      assert.equal((await request('/api/status', { host, authorization: AUTH })).status, 200, host);
    }
    for (const host of ['example.com', 'evilops.example', 'admin.example.com.evil.example']) {
      assert.equal((await request('/api/status', { host, authorization: AUTH })).status, 421, host);
    }
  } finally {
    await server.setProperty('admin.allowed-hosts', '');
  }
});
