// XEP-0199 against a real server process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';


let server: TestServer;
let client: RawClient;

before(async () => {
  server = await startTestServer();
  await server.addUser('alice', 'secret');
  client = await RawClient.login(server.c2sPort, 'alice', 'secret');
});

after(async () => {
  await client?.close();
  await server?.stop();
});

test('a ping to the server is answered with an empty result', async () => {
  const answer = await client.iq(`<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(answer.attrs.type, 'result');
  assert.equal(answer.attrs.from, 'localhost');
  assert.equal(answer.getChildElements().length, 0);
});

test('the server advertises urn:xmpp:ping', async () => {
  const info = await client.iq(`<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
  assert.ok(features.includes('urn:xmpp:ping'));
});

test('a ping of type set is not a ping: service-unavailable', async () => {
  const answer = await client.iq(`<iq type='set' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(answer.attrs.type, 'error');
  assert.equal(errorCondition(answer), 'service-unavailable');
});
