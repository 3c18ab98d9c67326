// A renewed certificate without a restart: the files are replaced, SIGHUP makes the server
// read them again, new handshakes (direct TLS and STARTTLS) see the new certificate, and a
// client connected over TLS before stays connected. A pair that does not load is refused
// with a log line and the old certificate stays in use.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

let server: TestServer;
const dir = mkdtempSync(join(tmpdir(), 'xmppd-tls-reload-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');

async function writePair(name: string): Promise<void> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'rsa', keySize: 2048, algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private);
}

/** The common name of the certificate a direct TLS handshake shows now. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve((Array.isArray(cn) ? cn[0] : cn) ?? '');
    });
    socket.once('error', reject);
  });
}

/** Waits until the server's output matches, for up to 10 s. */
async function logged(pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(server.logs())) {
    if (Date.now() > deadline) assert.fail(`the server did not log ${pattern}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function reloaded(name: string): Promise<void> {
  process.kill(server.pid!, 'SIGHUP');
  const deadline = Date.now() + 10_000;
  while ((await presented(server.c2sTlsPort)) !== name) {
    if (Date.now() > deadline) assert.fail(`the server still shows its old certificate, not ${name}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  await writePair('first.test');
  server = await startTestServer({ env: { XMPPD_TLS_CERT: certFile, XMPPD_TLS_KEY: keyFile } });
  await server.addUser('alice', 'secret');
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('SIGHUP reloads the certificate for new handshakes; a client already on TLS stays connected', async () => {
  assert.equal(await presented(server.c2sTlsPort), 'first.test');
  const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { tls: true });
  try {
    await writePair('second.test');
    await reloaded('second.test');
    const pong = await alice.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.equal(pong.attrs.type, 'result', 'the session from before the reload is still served');
    const again = await RawClient.login(server.c2sPort, 'alice', 'secret', { tls: true, resource: 'after' });
    await again.close();
    await logged(/TLS certificate reloaded/);
  } finally {
    await alice.close();
  }
});

test('a broken pair is refused on SIGHUP, with a log line, and the previous certificate stays', async () => {
  writeFileSync(keyFile, 'not a key');
  process.kill(server.pid!, 'SIGHUP');
  await logged(/TLS certificate not reloaded; the previous one stays in use/);
  assert.equal(await presented(server.c2sTlsPort), 'second.test');
});
