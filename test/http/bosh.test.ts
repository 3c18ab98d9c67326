// BOSH (XEP-0124, XEP-0206) against a real server process, one raw HTTP request at a time:
// session negotiation, the rid window, repeats, long polling, terminate, inactivity,
// over-activity and the terminal binding conditions for everything a client gets wrong.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { BoshClient, NS_HTTPBIND, postBody, type BoshResponse } from './bosh-client.ts';

let server: TestServer;
const tcpClients: RawClient[] = [];

const terminated = (res: BoshResponse, condition?: string): void => {
  assert.equal(res.body.attrs.type, 'terminate', `expected a terminal body, got ${res.text}`);
  assert.equal(res.body.attrs.condition, condition, `expected condition ${condition}: ${res.text}`);
};
const isMessage = (body: string) => (el: Element): boolean => el.name === 'message' && el.getChildText('body') === body;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function tcpLogin(user: string, resource = 'tcp', presence = false): Promise<RawClient> {
  const c = await RawClient.login(server.c2sPort, user, 'secret', { resource, presence });
  tcpClients.push(c);
  return c;
}

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.bosh.inactivity': '5', 'xmpp.bosh.max-wait': '20' } });
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await server.addUser(u, 'secret');
  // alice and carol see each other's presence, to watch carol's BOSH session end.
  const storage = await server.storage();
  const item = (jid: string) => ({ jid, name: null, subscription: 'both' as const, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] });
  await storage.roster.put('alice', item('carol@localhost'));
  await storage.roster.put('carol', item('alice@localhost'));
  await storage.roster.put('alice', item('dave@localhost'));
  await storage.roster.put('dave', item('alice@localhost'));
});

after(async () => {
  for (const c of tcpClients) await c.close().catch(() => {});
  await server?.stop();
});

test('session creation negotiates wait, hold, requests and version and carries the stream features', async () => {
  const c = await BoshClient.create(server.httpPort, { wait: 600, hold: 5, ver: '1.6', ack: 1, content: 'text/plain; charset=utf-8' });
  const res = c.creation!;
  const a = res.body.attrs;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8', "the 'content' attribute sets the Content-Type");
  assert.match(a.sid!, /^[0-9a-f]{32}$/);
  assert.equal(a.wait, '20', 'wait is bounded by xmpp.bosh.max-wait');
  assert.equal(a.hold, '2', 'hold is bounded by xmpp.bosh.max-hold');
  assert.equal(a.requests, '3');
  assert.equal(a.ver, '1.6', 'the lower of the two versions');
  assert.equal(a.ack, String(c.rid - 1));
  assert.equal(a.inactivity, '5');
  assert.equal(a.from, 'localhost');
  assert.equal(a['xmpp:version'], '1.0');
  assert.equal(a['xmpp:restartlogic'], 'true');
  assert.ok(a.authid, 'authid carries the stream id');
  const mechanisms = res.body.getChild('features')?.getChild('mechanisms')?.getChildren('mechanism').map((m) => m.getText());
  assert.deepEqual(mechanisms, ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  terminated(await c.send('', { type: 'terminate' }));
});

test('requests the server cannot use get terminal binding conditions', async () => {
  const port = server.httpPort;
  const creation = (attrs: string): string => `<body xmlns='${NS_HTTPBIND}' rid='5000' wait='5' hold='1' ver='1.11'${attrs}/>`;
  terminated(await postBody(port, 'this is not XML'), 'bad-request');
  terminated(await postBody(port, '<body xmlns="http://jabber.org/protocol/httpbind" rid="1"><unclosed></body>'), 'bad-request');
  terminated(await postBody(port, `<html xmlns='${NS_HTTPBIND}' rid='1'/>`), 'bad-request');
  terminated(await postBody(port, `<body xmlns='${NS_HTTPBIND}' to='localhost'/>`), 'bad-request');
  terminated(await postBody(port, `<body xmlns='${NS_HTTPBIND}' rid='-4' to='localhost'/>`), 'bad-request');
  terminated(await postBody(port, `<body xmlns='${NS_HTTPBIND}' rid='1' to='localhost'>text</body>`), 'bad-request');
  terminated(await postBody(port, creation('')), 'improper-addressing');
  terminated(await postBody(port, creation(" to='example.org'")), 'host-unknown');
  terminated(await postBody(port, `<body xmlns='${NS_HTTPBIND}' rid='7' sid='no-such-session'/>`), 'item-not-found');
  const huge = await postBody(port, `<body xmlns='${NS_HTTPBIND}' rid='1'>${'x'.repeat(1_200_000)}</body>`);
  assert.equal(huge.status, 413, 'a body beyond 4 stanzas of the largest size is refused before parsing');
  terminated(huge, 'policy-violation');
  const empty = await postBody(port, '');
  terminated(empty, 'bad-request');
  assert.equal(empty.status, 200, 'a modern client gets conditions with HTTP 200');
});

test('a legacy client (no ver) gets the HTTP error codes of XEP-0124 section 17.1', async () => {
  const legacy = await postBody(server.httpPort,
    `<body xmlns='${NS_HTTPBIND}' rid='100' to='localhost' wait='5' hold='1' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>`);
  const sid = legacy.body.attrs.sid!;
  assert.ok(sid);
  assert.equal(legacy.body.attrs.ver, undefined);
  const far = await postBody(server.httpPort, `<body xmlns='${NS_HTTPBIND}' rid='200' sid='${sid}'/>`);
  assert.equal(far.status, 404);
  terminated(far, 'item-not-found');
});

test('a BOSH user logs in and exchanges messages with a TCP user, receiving them by long poll', async () => {
  const bosh = await BoshClient.create(server.httpPort, { wait: 10 });
  assert.equal(await bosh.login('bob', 'secret'), 'bob@localhost/bosh');
  const alice = await tcpLogin('alice');

  const poll = bosh.send();
  await pause(300);
  alice.send(`<message to='bob@localhost/bosh' type='chat' id='m1'><body>over TCP</body></message>`);
  const res = await poll;
  assert.ok(res.ms >= 250 && res.ms < 5_000, `the poll was held until the message came (${res.ms} ms)`);
  const msg = res.body.getChildElements().find(isMessage('over TCP'));
  assert.ok(msg, res.text);
  assert.equal(msg.attrs.xmlns, 'jabber:client', 'stanzas in a body carry their namespace');
  assert.equal(msg.attrs.from, alice.jid);

  const sent = bosh.send(`<message to='${alice.jid}' type='chat' xmlns='jabber:client'><body>over BOSH</body></message>`);
  const got = await alice.expect(isMessage('over BOSH'));
  assert.equal(got.attrs.from, 'bob@localhost/bosh');
  alice.send(`<message to='bob@localhost/bosh' type='chat'><body>release</body></message>`);
  await sent;
  terminated(await bosh.send('', { type: 'terminate' }));
});

test('output that arrives while no request is held goes out at once on the next one', async () => {
  const bosh = await BoshClient.create(server.httpPort, { wait: 10 });
  await bosh.login('bob', 'secret', 'between');
  const alice = await tcpLogin('alice', 'between');
  alice.send(`<message to='bob@localhost/between' type='chat'><body>queued</body></message>`);
  await pause(300);
  const res = await bosh.send();
  assert.ok(res.ms < 1_000, `answered at once (${res.ms} ms), not after the wait`);
  assert.ok(res.body.getChildElements().find(isMessage('queued')), res.text);
  terminated(await bosh.send('', { type: 'terminate' }));
});

test('an empty request is answered with an empty body when its wait runs out', async () => {
  const c = await BoshClient.create(server.httpPort, { wait: 1 });
  const res = await c.send();
  assert.ok(res.ms >= 900 && res.ms < 4_000, `answered after ${res.ms} ms`);
  assert.equal(res.body.getChildElements().length, 0);
  assert.equal(res.body.attrs.type, undefined);
  terminated(await c.send('', { type: 'terminate' }));
});

test('a request ahead of a gap in the rids is held until the gap is filled, then processed in order', async () => {
  const bosh = await BoshClient.create(server.httpPort, { wait: 10 });
  await bosh.login('erin', 'secret');
  const alice = await tcpLogin('alice', 'gap');
  const first = bosh.rid;
  const message = (body: string) => `<message to='${alice.jid}' xmlns='jabber:client' type='chat'><body>${body}</body></message>`;

  const second = bosh.send(message('two'), {}, first + 1);
  assert.ok(await alice.nothing(isMessage('two'), 500), 'rid+2 must wait for rid+1');
  const one = bosh.send(message('one'), {}, first);
  bosh.rid = first + 2;
  const received: string[] = [];
  for (let i = 0; i < 2; i++) received.push((await alice.expect((el) => el.name === 'message')).getChildText('body')!);
  assert.deepEqual(received, ['one', 'two']);
  await one;
  alice.send(`<message to='erin@localhost/bosh'><body>release</body></message>`);
  await second;
  terminated(await bosh.send('', { type: 'terminate' }));
});

test('a repeated rid gets the same response again; one no longer buffered ends the session', async () => {
  const bosh = await BoshClient.create(server.httpPort, { wait: 10 });
  await bosh.login('bob', 'secret', 'repeat');
  const ping = (id: string) => `<iq type='get' id='${id}' to='localhost' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`;
  const a = bosh.rid;
  const ra = await bosh.send(ping('a'));
  await bosh.send(ping('b'));
  const rc = await bosh.send(ping('c'));
  assert.ok(rc.body.getChild('iq'), rc.text);
  const again = await bosh.send('', {}, a + 2);
  assert.equal(again.text, rc.text, 'the buffered response, byte for byte');
  assert.ok(ra.text.includes("id=\"a\"") || ra.text.includes("id='a'"));
  const tooOld = await bosh.send('', {}, a);
  terminated(tooOld, 'item-not-found');
  terminated(await bosh.send(), 'item-not-found');
});

test('a rid beyond the window ends the session with item-not-found', async () => {
  const c = await BoshClient.create(server.httpPort);
  terminated(await c.send('', {}, c.rid + 5), 'item-not-found');
  terminated(await c.send(), 'item-not-found');
});

test('terminate forwards its payloads and ends the session like a logout', async () => {
  const alice = await tcpLogin('alice', 'watcher', true);
  const bosh = await BoshClient.create(server.httpPort, { wait: 10 });
  await bosh.login('dave', 'secret');
  const available = alice.expect((el) => el.name === 'presence' && el.attrs.from === 'dave@localhost/bosh' && el.attrs.type === undefined);
  await bosh.until((el) => el.name === 'presence' && el.attrs.from === 'dave@localhost/bosh', "<presence xmlns='jabber:client'/>");
  await available;
  const gone = alice.expect((el) => el.name === 'presence' && el.attrs.from === 'dave@localhost/bosh' && el.attrs.type === 'unavailable');
  const res = await bosh.send("<presence type='unavailable' xmlns='jabber:client'><status>bye</status></presence>", { type: 'terminate' });
  terminated(res);
  assert.equal((await gone).getChildText('status'), 'bye', 'the payload of the terminate request was delivered');
  terminated(await bosh.send(), 'item-not-found');
});

test('an inactive session ends as a disconnect: unavailable presence, later messages stored offline', async () => {
  const alice = await tcpLogin('alice', 'inactivity', true);
  const bosh = await BoshClient.create(server.httpPort, { wait: 1 });
  await bosh.login('carol', 'secret');
  await bosh.until((el) => el.name === 'presence' && el.attrs.from === 'carol@localhost/bosh', "<presence xmlns='jabber:client'/>");
  const gone = await alice.expect((el) => el.name === 'presence' && el.attrs.from === 'carol@localhost/bosh' && el.attrs.type === 'unavailable', 12_000);
  assert.ok(gone);
  terminated(await bosh.send(), 'item-not-found');

  alice.send(`<message to='carol@localhost' type='chat'><body>while you were away</body></message>`);
  await pause(300);
  const carol = await tcpLogin('carol', 'back', true);
  const stored = await carol.expect(isMessage('while you were away'));
  assert.ok(stored.getChild('delay', 'urn:xmpp:delay'), 'delivered from offline storage');
});

test('a pause request is answered at once and stretches the inactivity period', async () => {
  const c = await BoshClient.create(server.httpPort, { wait: 10 });
  assert.equal(c.creation!.body.attrs.maxpause, '120');
  const res = await c.send('', { pause: 15 });
  assert.ok(res.ms < 1_000, `answered at once (${res.ms} ms)`);
  assert.equal(res.body.attrs.type, undefined);
  await pause(6_500);
  const after = await c.send('', { type: 'terminate' });
  terminated(after);
  assert.equal(after.body.attrs.condition, undefined, 'still alive after more than the 5 s inactivity period');
});

test('too many simultaneous or too frequent empty requests are a policy violation', async () => {
  const c = await BoshClient.create(server.httpPort, { wait: 10, hold: 1 });
  const held = c.send();
  await pause(100);
  const second = await c.send();
  terminated(second, 'policy-violation');
  terminated(await held, 'other-request');

  const polling = await BoshClient.create(server.httpPort, { wait: 10, hold: 0 });
  assert.equal(polling.creation!.body.attrs.requests, '1');
  const first = await polling.send();
  assert.ok(first.ms < 1_000, 'a polling session is never held');
  terminated(await polling.send(), 'policy-violation');
});

test('acknowledgements: an answer to an older request says which newer rid arrived', async () => {
  const c = await BoshClient.create(server.httpPort, { wait: 10, hold: 2, ack: 1 });
  const r1 = c.send('', { ack: c.rid - 1 });
  const r2 = c.send();
  await pause(100);
  const r3rid = c.rid;
  const r3 = c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='NOPE'/>");
  const first = await r1;
  assert.equal(first.body.attrs.ack, String(r3rid), 'rid 1 was answered when rid 3 pushed it past hold=2');
  assert.ok(first.body.getChild('failure'), `the answer to the auth went to the oldest held request: ${first.text}`);
  const end = await c.send('', { type: 'terminate' });
  terminated(end);
  for (const r of [await r2, await r3]) assert.equal(r.body.getChildElements().length, 0, 'answered empty by the terminate');
});

test('stanzas must follow the stream restart after SASL', async () => {
  const c = await BoshClient.create(server.httpPort);
  const auth = Buffer.from('\0bob\0secret').toString('base64');
  await c.until((el) => el.name === 'success', `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
  const res = await c.send("<iq type='set' id='b' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  terminated(res, 'remote-stream-error');
  assert.ok(res.body.getChild('error')?.getChild('bad-format'), res.text);
});

test('a request with a stanza over the size limit ends the session with policy-violation', async () => {
  const c = await BoshClient.create(server.httpPort);
  const big = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${'A'.repeat(20_000)}</auth>`;
  terminated(await c.send(big), 'policy-violation');
});

test('a conflicting login over TCP ends the BOSH stream with a conflict stream error', async () => {
  const bosh = await BoshClient.create(server.httpPort, { wait: 10 });
  await bosh.login('bob', 'secret', 'dup');
  const poll = bosh.send();
  await pause(200);
  await tcpLogin('bob', 'dup');
  const res = await poll;
  terminated(res, 'remote-stream-error');
  assert.ok(res.body.getChild('error')?.getChild('conflict'), res.text);
});

test('CORS: preflight and responses allow the configured origins', async () => {
  const url = `http://127.0.0.1:${server.httpPort}/http-bind`;
  const preflight = await fetch(url, {
    method: 'OPTIONS',
    headers: { origin: 'https://chat.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');

  await server.setProperty('xmpp.http.cors.origins', 'https://chat.example, https://other.example');
  await pause(2_500);
  try {
    const body = `<body xmlns='${NS_HTTPBIND}' rid='9' sid='none'/>`;
    const allowed = await postBody(server.httpPort, body, { origin: 'https://chat.example' });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://chat.example');
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    const denied = await postBody(server.httpPort, body, { origin: 'https://evil.example' });
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  } finally {
    await server.setProperty('xmpp.http.cors.origins', '*');
  }
});

test('GET /http-bind explains what the endpoint is', async () => {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/http-bind`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /BOSH/);
});
