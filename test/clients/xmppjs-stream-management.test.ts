// xmpp.js (@xmpp/client, unmodified from npm) enables stream management by itself; when its
// socket drops, its reconnect plugin comes back and resumes the session, and the messages
// sent to it meanwhile arrive, once each.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { client, xml } from '@xmpp/client';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

// The test server's certificate is self-signed; xmpp.js upgrades with STARTTLS when offered.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type Stanza = ReturnType<typeof xml>;

let server: TestServer;

before(async () => {
  server = await startTestServer();
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
});

after(async () => {
  await server?.stop();
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('xmpp.js enables stream management, loses its socket, resumes and receives what was sent meanwhile', { timeout: 60_000 }, async (t) => {
  const xmpp = client({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: 'localhost', username: 'alice', password: 'secret', resource: 'mobile' });
  xmpp.on('error', () => {});
  // A client left reconnecting would keep the test process alive.
  t.after(() => xmpp.stop().catch(() => {}));
  const bodies: string[] = [];
  xmpp.on('stanza', (s: Stanza) => {
    if (s.is('message')) bodies.push(s.getChildText('body') ?? '');
  });
  const sm = (xmpp as unknown as { streamManagement: { enabled: boolean; id: string; on(e: string, f: () => void): void } }).streamManagement;
  let resumed = 0;
  sm.on('resumed', () => { resumed++; });
  await xmpp.start();
  await xmpp.send(xml('presence'));
  await until('stream management is enabled', () => sm.enabled);
  const id = sm.id;
  assert.ok(id, 'the server gave a resumption id');

  const bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
  bob.send(`<message to='alice@localhost/mobile' type='chat'><body>before</body></message>`);
  await until('the first message arrives', () => bodies.length === 1);

  // The socket dies under the client, as on a phone changing networks.
  (xmpp as unknown as { socket: { socket: { destroy(): void } } }).socket.socket.destroy();
  bob.send(`<message to='alice@localhost/mobile' type='chat'><body>while away 1</body></message>`);
  bob.send(`<message to='alice@localhost/mobile' type='chat'><body>while away 2</body></message>`);

  await until('the client resumed', () => resumed === 1, 15_000);
  assert.equal(sm.id, id, 'the same session, not a new one');
  await until('the messages sent meanwhile arrive', () => bodies.length >= 3, 5_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(bodies, ['before', 'while away 1', 'while away 2']);
  assert.ok(await bob.nothing((el) => el.name === 'presence' && el.attrs.type === 'unavailable', 100));
  await bob.close();
});
