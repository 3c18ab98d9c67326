// XEP-0092 against a real server process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RawClient } from '../helpers/raw-client.ts';
import { ROOT, startTestServer, type TestServer } from '../helpers/server-process.ts';

const VERSION_IQ = `<iq type='get' to='localhost'><query xmlns='jabber:iq:version'/></iq>`;
const packageVersion = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;

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

test('the server tells its name and version, and by default not its operating system', async () => {
  const answer = await client.iq(VERSION_IQ);
  assert.equal(answer.attrs.type, 'result');
  const query = answer.getChild('query', 'jabber:iq:version')!;
  assert.equal(query.getChildText('name'), 'xmppd');
  assert.equal(query.getChildText('version'), packageVersion);
  assert.equal(query.getChild('os'), undefined);
});

test('with xmpp.version.show-os on, the operating system is included (the change is live)', async () => {
  await server.setProperty('xmpp.version.show-os', 'true');
  const deadline = Date.now() + 10_000;
  let os: string | undefined;
  while (os === undefined && Date.now() < deadline) {
    os = (await client.iq(VERSION_IQ)).getChild('query')!.getChildText('os');
    if (os === undefined) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(os && os.length > 0, 'an <os/> element appears');
});

test('a version query of type set gets service-unavailable', async () => {
  const answer = await client.iq(`<iq type='set' to='localhost'><query xmlns='jabber:iq:version'/></iq>`);
  assert.equal(answer.attrs.type, 'error');
  assert.equal(answer.getChild('error')!.getChildElements()[0]!.name, 'service-unavailable');
});
