// The XEP-0065 file transfer proxy against a real server process: discovery, the streamhost,
// SOCKS5 connections named by the stream's hash, activation by the initiator only, data both
// ways, and the refusals (bad handshakes, a third connection, no activation in time).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { streamHash } from '../../server/modules/proxy65/index.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS = 'http://jabber.org/protocol/bytestreams';
let server: TestServer;
let proxyPort: number;
let alice: RawClient;
let bob: RawClient;

before(async () => {
  proxyPort = await freePort();
  server = await startTestServer({
    properties: { 'xmpp.proxy65.port': String(proxyPort), 'xmpp.proxy65.host': '127.0.0.1', 'xmpp.proxy65.activation-timeout': '2' },
  });
  await server.addUser('alice', 'secret');
  await server.addUser('bob', 'secret');
  alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'laptop' });
  bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'phone' });
});

after(async () => {
  await alice?.close();
  await bob?.close();
  await server?.stop();
});

/** Reads exactly `n` bytes. */
async function read(socket: net.Socket, n: number): Promise<Buffer> {
  let got = Buffer.alloc(0);
  while (got.length < n) {
    const chunk = socket.read() as Buffer | null;
    if (chunk) got = Buffer.concat([got, chunk]);
    else await Promise.race([once(socket, 'readable'), once(socket, 'close').then(() => { throw new Error(`closed after ${got.length} of ${n} bytes`); })]);
  }
  if (got.length > n) socket.unshift(got.subarray(n));
  return got.subarray(0, n);
}

/** A SOCKS5 CONNECT to `address` (port 0); resolves with the connection and the reply code. */
async function socks(address: string): Promise<{ socket: net.Socket; reply: number }> {
  const socket = net.connect(proxyPort, '127.0.0.1');
  socket.pause();
  await once(socket, 'connect');
  socket.write(Buffer.from([5, 1, 0]));
  assert.deepEqual([...(await read(socket, 2))], [5, 0], 'no authentication chosen');
  const name = Buffer.from(address, 'latin1');
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0, 0])]));
  const head = await read(socket, 5);
  await read(socket, head[4]! + 2);
  return { socket, reply: head[1]! };
}

function activateIq(sid: string, target: string): string {
  return `<iq type='set' to='proxy.localhost'><query xmlns='${NS}' sid='${sid}'><activate>${target}</activate></query></iq>`;
}

test('the proxy is listed by the server and says what it is', async () => {
  const items = await alice.iq(`<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
  assert.ok(items.getChildElements()[0]!.getChildElements().some((i) => i.attrs.jid === 'proxy.localhost'));
  const info = (await alice.iq(`<iq type='get' to='proxy.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
  const identity = info.getChild('identity')!;
  assert.deepEqual([identity.attrs.category, identity.attrs.type], ['proxy', 'bytestreams']);
  assert.ok(info.getChildren('feature').some((f) => f.attrs.var === NS));
});

test('the streamhost names the proxy, its address and port', async () => {
  const answer = await alice.iq(`<iq type='get' to='proxy.localhost'><query xmlns='${NS}'/></iq>`);
  const host = answer.getChildElements()[0]!.getChild('streamhost')!;
  assert.deepEqual([host.attrs.jid, host.attrs.host, host.attrs.port], ['proxy.localhost', '127.0.0.1', String(proxyPort)]);
});

test('a stream activated by its initiator carries data both ways; the target cannot activate it', async () => {
  const hash = streamHash('s1', 'alice@localhost/laptop', 'bob@localhost/phone');
  const target = await socks(hash);
  assert.equal(target.reply, 0);
  // Only the target is there: nothing to activate yet.
  assert.equal(errorCondition(await alice.iq(activateIq('s1', 'bob@localhost/phone'))), 'item-not-found');
  const initiator = await socks(hash);
  assert.equal(initiator.reply, 0);
  // The hash includes the initiator's JID: bob's activation names another stream.
  assert.equal(errorCondition(await bob.iq(activateIq('s1', 'alice@localhost/laptop'))), 'item-not-found');
  assert.equal((await alice.iq(activateIq('s1', 'bob@localhost/phone'))).attrs.type, 'result');

  initiator.socket.write('file contents');
  assert.equal((await read(target.socket, 13)).toString(), 'file contents');
  target.socket.write('ok');
  assert.equal((await read(initiator.socket, 2)).toString(), 'ok');
  initiator.socket.end();
  await once(target.socket, 'close');
});

test('bad requests get their answers and hold nothing', async () => {
  assert.equal(errorCondition(await alice.iq(`<iq type='set' to='proxy.localhost'><query xmlns='${NS}'><activate>bob@localhost/phone</activate></query></iq>`)), 'bad-request');
  assert.equal(errorCondition(await alice.iq(activateIq('s2', 'bob@localhost'))), 'bad-request', 'the target is a full JID');
  assert.equal(errorCondition(await alice.iq(`<iq type='get' to='proxy.localhost'><query xmlns='urn:example:unknown'/></iq>`)), 'service-unavailable');
  // An address that is not a stream hash, and a third party to a stream, are refused.
  assert.equal((await socks('example.com')).reply, 2);
  const hash = streamHash('s3', 'alice@localhost/laptop', 'bob@localhost/phone');
  await socks(hash);
  await socks(hash);
  assert.equal((await socks(hash)).reply, 2);
  // Not SOCKS5 at all: closed.
  const wrong = net.connect(proxyPort, '127.0.0.1');
  wrong.write(Buffer.from([4, 1, 0]));
  wrong.resume();
  await once(wrong, 'close');
});

test('connections never activated are closed after the deadline', async () => {
  const hash = streamHash('s4', 'alice@localhost/laptop', 'bob@localhost/phone');
  const { socket } = await socks(hash);
  socket.resume();
  const started = Date.now();
  await once(socket, 'close');
  const waited = Date.now() - started;
  assert.ok(waited >= 1500 && waited < 6000, `closed after ${waited} ms`);
});
