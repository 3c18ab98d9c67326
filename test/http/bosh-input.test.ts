// What a BOSH client can get wrong in its request bodies, against a real server process:
// rids outside what a number holds exactly, absurd 'wait', 'hold' and 'pause', bytes that
// are not UTF-8, a 'content' that is no media type. Each is answered as XEP-0124 says,
// and none leaves an error in the log. Also the endpoints' paths with a trailing slash.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { BoshClient, NS_HTTPBIND, postBody, type BoshResponse } from './bosh-client.ts';
import { WsClient, refusedUpgrade } from './ws-client.ts';

let server: TestServer;
const XBOSH = "xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'";
const MAX_RID = 9007199254740991;

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.bosh.max-wait': '20' }, env: { XMPPD_LOG_LEVEL: 'debug' } });
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
});

after(async () => {
  await server?.stop();
});

const terminated = (res: BoshResponse, condition?: string): void => {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.attrs.type, 'terminate', `expected a terminal body, got ${res.text}`);
  assert.equal(res.body.attrs.condition, condition, `expected condition ${condition}: ${res.text}`);
};
const creation = (attrs: string): string => `<body xmlns='${NS_HTTPBIND}' ${XBOSH} to='localhost' wait='1' hold='1' ver='1.11' ${attrs}/>`;
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Nothing the server logged is an error or a stack trace. */
function assertCleanLog(): void {
  const bad = server.logs().split('\n').filter((l) => / (ERROR|WARN) /.test(l) || /^\s+at /.test(l));
  assert.deepEqual(bad, []);
}

test('a rid that is no integer from 1 to 2^53 - 1 gets bad-request, at creation and within a session', async () => {
  const port = server.httpPort;
  for (const rid of ['9007199254740992', '9007199254740993', '18014398509481984', '99999999999999999999', '1.5', '1e3', '-1', '0', '0x10', 'abc', '']) {
    terminated(await postBody(port, creation(`rid='${rid}'`)), 'bad-request');
  }
  terminated(await postBody(port, creation('')), 'bad-request');

  // The largest rids work, up to the last one a session may reach.
  const c = new BoshClient(port, MAX_RID - 1);
  const created = await postBody(port, creation(`rid='${MAX_RID - 1}'`));
  assert.equal(created.body.attrs.type, undefined, created.text);
  c.sid = created.body.attrs.sid!;
  const last = await c.send('', {}, MAX_RID);
  assert.equal(last.body.attrs.type, undefined, last.text);
  terminated(await c.send('', {}, MAX_RID + 1), 'bad-request');
  terminated(await c.send('', {}, 1.5), 'bad-request');

  const log = server.logs();
  assert.match(log, /DEBUG \[bosh\] bad BOSH request address=127\.0\.0\.1 reason="'rid' \\"9007199254740993\\" is not an integer from 1 to 9007199254740991"/);
  assert.match(log, /reason="missing 'rid'"/);
  assertCleanLog();
});

test("absurd 'wait', 'hold' and 'pause' are clamped to what the server allows; malformed ones are bad-request", async () => {
  const huge = '9'.repeat(30);
  const c = await BoshClient.create(server.httpPort, { wait: huge, hold: huge, ack: 1 });
  const a = c.creation!.body.attrs;
  assert.equal(a.wait, '20', 'xmpp.bosh.max-wait');
  assert.equal(a.hold, '2', 'xmpp.bosh.max-hold');
  assert.equal(a.requests, '3');
  const paused = await c.send('', { pause: huge });
  assert.equal(paused.body.attrs.type, undefined, `a pause beyond maxpause is clamped to it: ${paused.text}`);
  assert.ok(paused.ms < 1_000, 'and answered at once');
  terminated(await c.send('', { type: 'terminate' }));

  for (const attrs of ["wait='-5'", "hold='1.5'", "wait='ten'", "hold=''"]) {
    terminated(await postBody(server.httpPort, creation(`rid='100' ${attrs}`.replace(/ wait='1' hold='1'/, ''))), 'bad-request');
  }
  assertCleanLog();
});

test("an 'ack' is a rid: one beyond a billion is accepted", async () => {
  const c = new BoshClient(server.httpPort, 5_000_000_000);
  const created = await postBody(server.httpPort, creation(`rid='${c.rid++}' ack='1'`));
  c.sid = created.body.attrs.sid!;
  assert.equal(created.body.attrs.ack, '5000000000');
  const res = await c.send('', { ack: 5_000_000_000 });
  assert.equal(res.body.attrs.type, undefined, res.text);
  terminated(await c.send('', { type: 'terminate' }));
});

test('bytes that are not UTF-8, in an attribute or a payload, are bad-request; UTF-8 arrives intact', async () => {
  const port = server.httpPort;
  const refused = async (body: Buffer): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}/http-bind`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: new Uint8Array(body) });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `<body xmlns='${NS_HTTPBIND}' type='terminate' condition='bad-request'/>`);
  };
  await refused(bytes(`<body xmlns='${NS_HTTPBIND}' ${XBOSH} rid='100' to='localhost' wait='1' hold='1' ver='1.11' xml:lang='`, [0xff, 0xfe], `'/>`));
  await refused(bytes(`<body xmlns='${NS_HTTPBIND}' ${XBOSH} rid='100' to='local`, [0xc0, 0xae], `host' ver='1.11'/>`));

  const bob = await BoshClient.create(port, { wait: 5 });
  await bob.login('bob', 'secret');
  const surrogate = bytes(bob.bodyText(`<message to='alice@localhost' type='chat' xmlns='jabber:client'><body>`), [0xed, 0xa0, 0x80], '</body></message>');
  await refused(surrogate);
  assert.match(server.logs(), /bad BOSH request address=127\.0\.0\.1 reason="the body is not valid UTF-8"/);

  // The session itself goes on: the refused body never reached it.
  const alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
  try {
    const text = 'héllo ☃ 😀 日本語';
    const sent = bob.send(`<message to='${alice.jid}' type='chat' xmlns='jabber:client'><body>${text}</body></message>`);
    const got = await alice.expect((el) => el.name === 'message');
    assert.equal(got.getChildText('body'), text);
    await sent;
  } finally {
    await alice.close();
  }
  terminated(await bob.send('', { type: 'terminate' }));
  assertCleanLog();
});

test("a 'content' that is no media type is bad-request instead of a broken response header", async () => {
  for (const content of ['text/xml&#13;&#10;Set-Cookie: x=1', 'é', '']) {
    terminated(await postBody(server.httpPort, creation(`rid='100' content='${content}'`)), 'bad-request');
  }
  const plain = await BoshClient.create(server.httpPort, { content: 'text/plain; charset=utf-8' });
  assert.equal(plain.creation!.headers.get('content-type'), 'text/plain; charset=utf-8');
  terminated(await plain.send('', { type: 'terminate' }));
  assertCleanLog();
});

test('/http-bind/ and /ws/, as Openfire clients are configured, are the same endpoints', async () => {
  const url = `http://127.0.0.1:${server.httpPort}/http-bind/`;
  const post = async (text: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: text });
    return { status: res.status, text: await res.text() };
  };
  const created = await post(creation("rid='300'"));
  assert.equal(created.status, 200);
  const sid = /sid='([0-9a-f]{32})'/.exec(created.text)?.[1];
  assert.ok(sid, created.text);
  const c = new BoshClient(server.httpPort, 301);
  c.sid = sid;
  const next = await c.send();
  assert.equal(next.body.attrs.type, undefined, 'the session goes on at /http-bind');
  assert.match((await post(c.bodyText('', { type: 'terminate' }))).text, /type='terminate'/, 'and ends at /http-bind/');

  assert.match(await (await fetch(url)).text(), /BOSH/);
  const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://chat.example', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 204);
  const huge = await post(`<body xmlns='${NS_HTTPBIND}' rid='1'>${'x'.repeat(1_200_000)}</body>`);
  assert.equal(huge.status, 413);
  assert.equal(huge.text, `<body xmlns='${NS_HTTPBIND}' type='terminate' condition='policy-violation'/>`);

  const ws = await WsClient.connect(server.httpPort, { path: '/ws/' });
  assert.equal(await ws.login('alice', 'secret', 'slash'), 'alice@localhost/slash');
  ws.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  await ws.closed;
  assert.equal((await refusedUpgrade(server.httpPort, { path: '/ws/x', protocols: ['xmpp'] })).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/status/`)).status, 404, 'other paths keep their one spelling');
  assertCleanLog();
});
