// What an unauthenticated WebSocket peer can make the server hold: frames are refused by
// their announced length as soon as their header arrives, at the preauth stanza limit until
// the client has logged in, at the stanza limit after.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { WsClient } from './ws-client.ts';

let server: TestServer;
const clients: WsClient[] = [];

before(async () => {
  server = await startTestServer();
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
});

after(async () => {
  for (const c of clients) c.ws.terminate();
  await server?.stop();
});

async function connect(): Promise<WsClient> {
  const c = await WsClient.connect(server.httpPort);
  clients.push(c);
  return c;
}

test('before login, a frame announcing more than the preauth limit closes the connection at its header', async () => {
  const c = await connect();
  await c.open();
  // Send only the header and a little of a 16 MB frame: the server must not wait for the rest.
  const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  const header = Buffer.alloc(14);
  header[0] = 0x81; // FIN, text
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(16n * 1024n * 1024n, 2);
  header.writeUInt32BE(0x01020304, 10); // mask key
  socket.write(Buffer.concat([header, Buffer.alloc(4096, 0x20)]));
  const { code } = await c.closed;
  assert.equal(code, 1009, 'closed as "message too big"');
});

test('after login, stanzas up to the stanza limit pass, and a bystander is unaffected', async () => {
  const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'tcp' });
  try {
    const alice = await connect();
    await alice.login('alice', 'secret');
    const body = 'y'.repeat(100_000);
    alice.ws.send(`<message xmlns='jabber:client' to='bob@localhost/tcp' type='chat'><body>${body}</body></message>`);
    const got = await bob.expect((e) => e.name === 'message');
    assert.equal(got.getChildText('body')?.length, body.length);
  } finally {
    await bob.close();
  }
});
