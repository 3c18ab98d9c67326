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

/**
 * One request with exactly the headers given (fetch() does not let a test set Host); `send`
 * writes the body (by default: none, or the string given).
 */
function request(path: string, headers: Record<string, string>, method = 'GET', send: string | ((req: http.ClientRequest) => void) = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A connection of its own: one that announced a body it never sent is not reusable.
    const req = http.request({ host: '127.0.0.1', port: server.adminPort, path, method, headers, agent: false, setHost: 'host' in headers ? false : undefined }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // Once answered, an error (the server closing while the test still writes) changes nothing.
    req.on('error', reject);
    if (typeof send === 'string') req.end(send);
    else send(req);
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

test('a chunked upload without Content-Length is stopped with 413 at plugins.archive.max-bytes while it streams', async () => {
  const limit = 1024 * 1024;
  await server.setProperty('plugins.archive.max-bytes', String(limit));
  await pause(2_500);
  try {
    const chunk = Buffer.alloc(64 * 1024, 0x1f);
    const total = 128 * 1024 * 1024;
    let sent = 0;
    let sentWhenAnswered = -1;
    const chunked = { authorization: AUTH, 'content-type': 'application/gzip', 'transfer-encoding': 'chunked' };
    const answer = await request('/api/plugins', chunked, 'POST', (req) => {
      req.once('response', () => { sentWhenAnswered = sent; });
      const write = (): void => {
        if (sentWhenAnswered !== -1 || req.destroyed) return;
        if (sent >= total) return void req.end();
        sent += chunk.length;
        if (req.write(chunk)) setTimeout(write, 2);
        else req.once('drain', write);
      };
      write();
    });
    assert.equal(answer.status, 413, answer.text);
    assert.equal(answer.headers.connection, 'close');
    const error = JSON.parse(answer.text);
    assert.equal(error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(error.message, `the archive went on beyond ${limit} bytes, above plugins.archive.max-bytes (${limit})`);
    // Sent counts what went into socket buffers too, several MiB on loopback.
    assert.ok(sentWhenAnswered < total / 4, `answered after ${sentWhenAnswered} bytes of ${total}, not at the end`);

    // A length announced above the limit is refused before the body is read.
    const announced = await request('/api/plugins', { authorization: AUTH, 'content-type': 'application/gzip', 'content-length': String(limit + 1) }, 'POST');
    assert.equal(announced.status, 413);
    assert.match(JSON.parse(announced.text).message, new RegExp(`is ${limit + 1} bytes, above plugins\\.archive\\.max-bytes`));

    // Below the limit, a chunked upload is read to its end and judged as an archive.
    const small = await request('/api/plugins', chunked, 'POST', (req) => {
      req.write(chunk);
      req.end(chunk);
    });
    assert.equal(small.status, 400, small.text);
    assert.equal(JSON.parse(small.text).code, 'PLUGIN_ARCHIVE_INVALID');
    assert.doesNotMatch(server.logs(), /ERROR/);
  } finally {
    await server.setProperty('plugins.archive.max-bytes', String(100 * 1024 * 1024));
  }
});

test('the cluster consistency check on a node that is not in a cluster is a 409 that says so', async () => {
  const host = `127.0.0.1:${server.adminPort}`;
  for (const [method, path] of [['GET', '/api/cluster/consistency'], ['POST', '/api/cluster/consistency/repair']] as const) {
    const res = await request(path, { host, authorization: AUTH }, method);
    assert.equal(res.status, 409, `${method} ${path}: ${res.text}`);
    assert.equal((JSON.parse(res.text) as { code: string }).code, 'NOT_CLUSTERED');
  }
});
