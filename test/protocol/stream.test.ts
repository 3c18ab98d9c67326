// RFC 6120 stream negotiation over a real socket against a real server process: headers,
// STARTTLS, SASL, binding, stamping and stanza validation, each rule with its error path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { WsClient } from '../http/ws-client.ts';

const SASL = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
const plain = (user: string, pass: string): string => Buffer.from(`\0${user}\0${pass}`).toString('base64');
const mechanisms = (features: { getChild(n: string): { getChildren(n: string): { getText(): string }[] } | undefined }): string[] =>
  features.getChild('mechanisms')?.getChildren('mechanism').map((m) => m.getText()) ?? [];

describe('stream negotiation (plaintext auth allowed, TLS optional)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ properties: { 'xmpp.auth.failure-delay': '1' } });
    await server.addUser('alice', 'secret');
    await server.addUser('bob', 'secret');
  });
  after(() => server.stop());

  test('the server answers with its own header, STARTTLS and the SASL mechanisms', async () => {
    const c = await RawClient.connect(server.c2sPort);
    const features = await c.open();
    assert.equal(c.streamAttrs!.from, 'localhost');
    assert.equal(c.streamAttrs!.version, '1.0');
    assert.ok(c.streamAttrs!.id && c.streamAttrs!.id.length >= 8, 'stream id present');
    assert.ok(features.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'));
    assert.deepEqual(mechanisms(features), ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    await c.close();
  });

  const headerCases: [string, string, string][] = [
    ['wrong default namespace', "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='localhost'>", 'invalid-namespace'],
    ['unknown host', "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='example.org'>", 'host-unknown'],
    ['no version', "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>", 'unsupported-version'],
    ['version 2.0', "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='2.0' to='localhost'>", 'unsupported-version'],
    ['wrong stream namespace', "<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' version='1.0' to='localhost'>", 'invalid-namespace'],
  ];
  for (const [name, header, condition] of headerCases) {
    test(`stream header: ${name} -> ${condition}`, async () => {
      const c = await RawClient.connect(server.c2sPort);
      c.send(header);
      assert.equal(await c.expectStreamError(), condition);
      assert.ok(c.streamAttrs, 'the server opened its stream before the error (RFC 6120 4.9.1.1)');
      await c.closed;
    });
  }

  test('SASL PLAIN with a wrong password fails with not-authorized, then succeeds', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    const failure = await c.authPlain('alice', 'wrong');
    assert.equal(failure.name, 'failure');
    assert.ok(failure.getChild('not-authorized'));
    const success = await c.authPlain('alice', 'secret');
    assert.equal(success.name, 'success');
    await c.close();
  });

  test('repeated SASL failures are answered more and more slowly', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    let t = Date.now();
    await c.authPlain('alice', 'bad1');
    const first = Date.now() - t;
    t = Date.now();
    await c.authPlain('alice', 'bad2');
    const second = Date.now() - t;
    assert.ok(second >= 900, `second failure answered after ${second} ms, expected the 1 s delay`);
    assert.ok(second > first, 'later failures are slower');
    await c.close();
  });

  test('SASL errors: unknown mechanism, bad base64, abort', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    c.send(`<auth ${SASL} mechanism='X-UNKNOWN'>AAAA</auth>`);
    assert.ok((await c.expect((e) => e.name === 'failure')).getChild('invalid-mechanism'));
    c.send(`<auth ${SASL} mechanism='PLAIN'>!!!not base64!!!</auth>`);
    assert.ok((await c.expect((e) => e.name === 'failure', 10_000)).getChild('incorrect-encoding'));
    c.send(`<auth ${SASL} mechanism='SCRAM-SHA-256'>${Buffer.from('n,,n=alice,r=abcdef').toString('base64')}</auth>`);
    assert.equal((await c.expect((e) => e.name === 'challenge')).name, 'challenge');
    c.send(`<abort ${SASL}/>`);
    assert.ok((await c.expect((e) => e.name === 'failure', 10_000)).getChild('aborted'));
    await c.close();
  });

  test('stanzas before authentication end the stream with not-authorized', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    c.send("<message to='bob@localhost'><body>sneaky</body></message>");
    assert.equal(await c.expectStreamError(), 'not-authorized');
  });

  test('a stanza after SASL but before binding ends the stream with not-authorized', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    assert.equal((await c.authPlain('alice', 'secret')).name, 'success');
    const features = await c.open();
    assert.ok(features.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'));
    c.send("<message to='bob@localhost'><body>too early</body></message>");
    assert.equal(await c.expectStreamError(), 'not-authorized');
  });

  test('bind without a resource gets a generated one; legacy session is accepted', async () => {
    const c = await RawClient.login(server.c2sPort, 'alice', 'secret');
    assert.match(c.jid, /^alice@localhost\/.+/);
    const session = await c.iq("<iq type='set'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    assert.equal(session.attrs.type, 'result');
    await c.close();
  });

  test('binding a resource in use: the new session wins, the old gets conflict', async () => {
    const old = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'phone' });
    const fresh = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'phone' });
    assert.equal(await old.expectStreamError(), 'conflict');
    await old.closed;
    assert.equal(fresh.jid, 'alice@localhost/phone');
    const pong = await fresh.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.equal(pong.attrs.type, 'result');
    await fresh.close();
  });

  test('from is stamped with the full JID; a forged from ends the stream with invalid-from', async () => {
    const a = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'a' });
    const b = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'b' });
    a.send("<message to='bob@localhost/b' type='chat'><body>1</body></message>");
    assert.equal((await b.expect((e) => e.name === 'message')).attrs.from, 'alice@localhost/a');
    a.send("<message from='alice@localhost' to='bob@localhost/b' type='chat'><body>2</body></message>");
    assert.equal((await b.expect((e) => e.name === 'message')).attrs.from, 'alice@localhost/a', 'bare from is allowed and stamped');
    a.send("<message from='bob@localhost/b' to='bob@localhost/b' type='chat'><body>forged</body></message>");
    assert.equal(await a.expectStreamError(), 'invalid-from');
    assert.ok(await b.nothing((e) => e.name === 'message' && e.getChildText('body') === 'forged'), 'forged message not delivered');
    await b.close();
  });

  test('IQ validation: missing id, bad type and two payloads are bad-request', async () => {
    const c = await RawClient.login(server.c2sPort, 'alice', 'secret');
    c.send("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const noId = await c.expect((e) => e.name === 'iq' && e.attrs.type === 'error');
    assert.ok(noId.getChild('error')!.getChild('bad-request'));
    const badType = await c.iq("<iq type='fetch' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.ok(badType.getChild('error')!.getChild('bad-request'));
    const two = await c.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.ok(two.getChild('error')!.getChild('bad-request'));
    const unknown = await c.iq("<iq type='get' to='localhost'><query xmlns='urn:example:nothing'/></iq>");
    assert.equal(unknown.getChild('error')!.attrs.type, 'cancel');
    assert.ok(unknown.getChild('error')!.getChild('service-unavailable'));
    await c.close();
  });

  test('addresses: malformed to is jid-malformed, another domain is remote-server-not-found', async () => {
    const c = await RawClient.login(server.c2sPort, 'alice', 'secret');
    const malformed = await c.iq("<iq type='get' to='a@b@c'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.ok(malformed.getChild('error')!.getChild('jid-malformed'));
    c.send("<message to='someone@example.org' id='m1'><body>hi</body></message>");
    const bounce = await c.expect((e) => e.name === 'message' && e.attrs.type === 'error');
    assert.equal(bounce.attrs.id, 'm1');
    assert.ok(bounce.getChild('error')!.getChild('remote-server-not-found'));
    await c.close();
  });

  test('a non-stanza element after binding ends the stream with unsupported-stanza-type', async () => {
    const c = await RawClient.login(server.c2sPort, 'alice', 'secret');
    c.send("<foo xmlns='urn:example:foo'/>");
    assert.equal(await c.expectStreamError(), 'unsupported-stanza-type');
  });

  test('direct TLS on the second port logs in', async () => {
    const c = await RawClient.connect(server.c2sTlsPort, { directTls: true });
    const features = await c.open();
    assert.equal(features.getChild('starttls'), undefined, 'no STARTTLS on an encrypted stream');
    assert.equal((await c.authPlain('bob', 'secret')).name, 'success');
    await c.open();
    assert.equal(await c.bind('tls'), 'bob@localhost/tls');
    await c.close();
  });

  test('closing the stream closes the connection', async () => {
    const c = await RawClient.login(server.c2sPort, 'alice', 'secret');
    await c.close();
    assert.ok(c.received.endsWith('</stream:stream>'));
  });
});

describe('security defaults: TLS required before authentication', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { XMPPD_REQUIRE_TLS: 'true', XMPPD_ALLOW_PLAINTEXT_AUTH: 'false' } });
    await server.addUser('alice', 'secret');
  });
  after(() => server.stop());

  test('before STARTTLS only STARTTLS is offered, marked required', async () => {
    const c = await RawClient.connect(server.c2sPort);
    const features = await c.open();
    assert.ok(features.getChild('starttls')!.getChild('required'));
    assert.deepEqual(mechanisms(features), []);
    c.send(`<auth ${SASL} mechanism='PLAIN'>${plain('alice', 'secret')}</auth>`);
    assert.ok((await c.expect((e) => e.name === 'failure')).getChild('encryption-required'));
    assert.equal(await c.expectStreamError(), 'policy-violation');
  });

  test('after STARTTLS the mechanisms include PLAIN and login works', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    await c.startTls();
    const features = await c.open();
    assert.equal(features.getChild('starttls'), undefined);
    assert.ok(mechanisms(features).includes('PLAIN'));
    assert.equal((await c.authPlain('alice', 'secret')).name, 'success');
    await c.open();
    assert.equal(await c.bind('secure'), 'alice@localhost/secure');
    await c.close();
  });
});

describe('plaintext streams without TLS requirement still keep PLAIN off', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { XMPPD_REQUIRE_TLS: 'false', XMPPD_ALLOW_PLAINTEXT_AUTH: 'false' } });
    await server.addUser('alice', 'secret');
  });
  after(() => server.stop());

  test('SCRAM is offered, PLAIN is not, and PLAIN is refused with encryption-required', async () => {
    const c = await RawClient.connect(server.c2sPort);
    const features = await c.open();
    assert.deepEqual(mechanisms(features), ['SCRAM-SHA-256', 'SCRAM-SHA-1']);
    c.send(`<auth ${SASL} mechanism='PLAIN'>${plain('alice', 'secret')}</auth>`);
    assert.ok((await c.expect((e) => e.name === 'failure')).getChild('encryption-required'));
    await c.close();
  });
});

describe('limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      properties: {
        'xmpp.c2s.negotiation-timeout': '2',
        'xmpp.c2s.max-connections-per-ip': '5',
        'xmpp.stanza.max-bytes.preauth': '2048',
        'xmpp.stanza.max-bytes': '20000',
        'xmpp.auth.max-failures': '2',
        'xmpp.auth.failure-delay': '0',
      },
    });
    await server.addUser('alice', 'secret');
  });
  after(() => server.stop());

  test('a client that does not finish negotiating gets connection-timeout', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    assert.equal(await c.expectStreamError(4_000), 'connection-timeout');
    await c.closed;
  });

  test('too many connections from one address: policy-violation for the extra one only', async () => {
    const clients = await Promise.all([1, 2, 3, 4, 5].map(() => RawClient.connect(server.c2sPort)));
    const extra = await RawClient.connect(server.c2sPort);
    assert.equal(await extra.expectStreamError(), 'policy-violation');
    for (const c of clients) assert.ok((await c.open()).getChild('mechanisms'), 'earlier connections unaffected');
    for (const c of clients) c.destroy();
    await Promise.all(clients.map((c) => c.closed));
    // The server counts a connection as gone when it sees the close; give it that moment.
    await new Promise((r) => setTimeout(r, 500));
  });

  test('xmpp.auth.max-failures failed attempts (2 here, not the default 5) end the stream with policy-violation', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    assert.ok((await c.authPlain('alice', 'wrong1')).getChild('not-authorized'));
    assert.ok(await c.nothing((e) => e.name === 'stream:error', 300), 'one failure is not enough');
    assert.ok((await c.authPlain('alice', 'wrong2')).getChild('not-authorized'), 'the last attempt is answered too');
    assert.equal(await c.expectStreamError(), 'policy-violation');
    await c.closed;
  });

  test('a stanza above the pre-auth limit ends only that stream with policy-violation', async () => {
    const bystander = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'by' });
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    c.send(`<auth ${SASL} mechanism='PLAIN'>${'A'.repeat(4000)}</auth>`);
    assert.equal(await c.expectStreamError(), 'policy-violation');
    const pong = await bystander.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.equal(pong.attrs.type, 'result');
    await bystander.close();
  });

  test('after authentication the larger limit applies', async () => {
    const c = await RawClient.login(server.c2sPort, 'alice', 'secret');
    const ok = await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ok.attrs.type, 'result');
    c.send(`<message to='alice@localhost'><body>${'x'.repeat(10_000)}</body></message>`);
    assert.ok(await c.nothing((e) => e.name === 'stream:error', 300), '10 kB is fine after auth');
    c.send(`<message to='alice@localhost'><body>${'x'.repeat(30_000)}</body></message>`);
    assert.equal(await c.expectStreamError(), 'policy-violation');
  });
});

describe('sessions per account (xmpp.session.max-per-user)', () => {
  let server: TestServer;
  const open: { close(): unknown }[] = [];
  const bindIq = (resource: string): string => `<iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`;
  const ping = "<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>";

  async function login(user: string, resource: string): Promise<RawClient> {
    const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
    open.push(c);
    return c;
  }

  /** A stream authenticated as `user`, not yet bound. */
  async function authenticated(user: string): Promise<RawClient> {
    const c = await RawClient.connect(server.c2sPort);
    open.push(c);
    await c.open();
    assert.equal((await c.authPlain(user, 'secret')).name, 'success');
    await c.open();
    return c;
  }

  /** Binds on `c` again and again until it works: the server counts a closed connection as gone when it sees the close. */
  async function bindOnceFree(c: RawClient, resource: string): Promise<import('../../server/xml/element.ts').Element> {
    const deadline = Date.now() + 5_000;
    let answer = await c.iq(bindIq(resource));
    while (answer.attrs.type !== 'result' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await c.iq(bindIq(resource));
    }
    return answer;
  }

  before(async () => {
    server = await startTestServer({ properties: { 'xmpp.session.max-per-user': '2' } });
    for (const user of ['carol', 'dave', 'erin', 'frank']) await server.addUser(user, 'secret');
  });
  after(async () => {
    for (const c of open) await Promise.resolve(c.close()).catch(() => {});
    await server.stop();
  });

  test('a third bind gets resource-constraint (wait), the stream stays open, and a freed place can be taken', async () => {
    const a = await login('carol', 'a');
    const b = await login('carol', 'b');
    const c = await authenticated('carol');
    const refused = await c.iq(bindIq('c'));
    assert.equal(refused.attrs.type, 'error');
    assert.equal(errorCondition(refused), 'resource-constraint', String(refused));
    assert.equal(refused.getChild('error')!.attrs.type, 'wait');
    assert.match(refused.getChild('error')!.getChildText('text') ?? '', /at most 2 sessions/);
    assert.ok(await c.nothing((e) => e.name === 'stream:error', 300), 'the refused stream stays open');
    for (const bound of [a, b]) assert.equal((await bound.iq(ping)).attrs.type, 'result', 'bound sessions are unaffected');
    assert.equal((await login('dave', 'a')).jid, 'dave@localhost/a', 'other accounts have places of their own');

    await a.close();
    const bound = await bindOnceFree(c, 'c');
    assert.equal(bound.attrs.type, 'result', String(bound));
    assert.equal(bound.getChild('bind')!.getChildText('jid'), 'carol@localhost/c');
    assert.equal((await c.iq(ping)).attrs.type, 'result');
    assert.equal((await b.iq(ping)).attrs.type, 'result');
  });

  test('a bind replacing a bound resource does not count twice', async () => {
    const old = await login('erin', 'phone');
    const other = await login('erin', 'laptop');
    const fresh = await login('erin', 'phone');
    assert.equal(fresh.jid, 'erin@localhost/phone', 'replacing at the limit is allowed');
    assert.equal(await old.expectStreamError(), 'conflict');
    await old.closed;
    const third = await authenticated('erin');
    assert.equal(errorCondition(await third.iq(bindIq('tablet'))), 'resource-constraint', 'still two sessions, not three');
    for (const bound of [fresh, other]) assert.equal((await bound.iq(ping)).attrs.type, 'result');
  });

  test('sessions over every transport count: WebSocket and TCP share the limit', async () => {
    const tcp = await login('frank', 'tcp');
    const ws = await WsClient.connect(server.httpPort);
    open.push({ close: () => ws.ws.terminate() });
    assert.equal(await ws.login('frank', 'secret', 'web'), 'frank@localhost/web');
    const refused = await authenticated('frank');
    assert.equal(errorCondition(await refused.iq(bindIq('third'))), 'resource-constraint');

    const ws2 = await WsClient.connect(server.httpPort);
    open.push({ close: () => ws2.ws.terminate() });
    assert.equal(await ws2.login('frank', 'secret', 'web2'), '', 'the WebSocket bind is refused too');
    assert.ok(ws2.frames.some((f) => f.includes('resource-constraint')), ws2.frames.join('\n'));
    assert.equal((await tcp.iq(ping)).attrs.type, 'result');

    // The limit is live: raising it lets the waiting stream bind.
    await server.setProperty('xmpp.session.max-per-user', '3');
    const bound = await bindOnceFree(refused, 'third');
    assert.equal(bound.attrs.type, 'result', String(bound));
  });
});
