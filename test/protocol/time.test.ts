// XEP-0202 against a real server process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

let server: TestServer;
let client: RawClient;

before(async () => {
  server = await startTestServer({ env: { TZ: 'Asia/Kolkata' } });
  await server.addUser('alice', 'secret');
  client = await RawClient.login(server.c2sPort, 'alice', 'secret');
});

after(async () => {
  await client?.close();
  await server?.stop();
});

test('the server tells its UTC time and its zone offset', async () => {
  const answer = await client.iq(`<iq type='get' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`);
  assert.equal(answer.attrs.type, 'result');
  const time = answer.getChild('time', 'urn:xmpp:time')!;
  assert.equal(time.getChildText('tzo'), '+05:30');
  const utc = time.getChildText('utc')!;
  assert.match(utc, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Math.abs(Date.parse(utc) - Date.now()) < 5_000, `${utc} is close to now`);
});

test('a time request of type set gets service-unavailable', async () => {
  const answer = await client.iq(`<iq type='set' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`);
  assert.equal(answer.attrs.type, 'error');
  assert.equal(answer.getChild('error')!.getChildElements()[0]!.name, 'service-unavailable');
});
