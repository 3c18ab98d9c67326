// Garbage in, the right error out, and nobody else disturbed: a table of malformed streams
// and stanzas, each sent on its own connection while a bystander session keeps chatting.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='localhost'>";

/** Where the bad input is sent: as the very first bytes, after the stream opened, or after login. */
type Phase = 'raw' | 'opened' | 'bound';

interface StreamCase {
  name: string;
  phase: Phase;
  input: string | Buffer;
  condition: string;
}

const streamCases: StreamCase[] = [
  { name: 'text before the stream', phase: 'raw', input: 'hello world', condition: 'not-well-formed' },
  { name: 'DOCTYPE with an entity declaration', phase: 'raw', input: `<?xml version='1.0'?><!DOCTYPE x [<!ENTITY boom 'aaaaaaaaaa'>]>${HEADER}`, condition: 'restricted-xml' },
  { name: 'non-UTF-8 encoding declared', phase: 'raw', input: `<?xml version='1.0' encoding='ISO-8859-1'?>${HEADER}`, condition: 'unsupported-encoding' },
  { name: 'undeclared stream prefix', phase: 'raw', input: "<stream:stream xmlns='jabber:client' version='1.0' to='localhost'>", condition: 'bad-namespace-prefix' },
  // Once took the identifier-class check exponential time: the whole server froze.
  { name: 'to with a crafted localpart (40 letters and a no-break space)', phase: 'raw', input: `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='${'a'.repeat(40)}\u00a0@localhost'>`, condition: 'host-unknown' },
  { name: 'root element is not a stream', phase: 'raw', input: "<html xmlns='jabber:client'>", condition: 'invalid-namespace' },
  { name: 'comment', phase: 'opened', input: '<!-- hello -->', condition: 'restricted-xml' },
  { name: 'processing instruction', phase: 'opened', input: "<?evil stuff?>", condition: 'restricted-xml' },
  { name: 'stanza before authentication', phase: 'opened', input: "<message to='bob@localhost'><body>x</body></message>", condition: 'not-authorized' },
  { name: 'IQ before authentication', phase: 'opened', input: "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>", condition: 'not-authorized' },
  { name: 'unclosed tag (mismatched end)', phase: 'bound', input: "<message to='bob@localhost'><body>hi</message>", condition: 'not-well-formed' },
  { name: 'undeclared entity', phase: 'bound', input: "<message to='bob@localhost'><body>&bogus;</body></message>", condition: 'restricted-xml' },
  { name: 'malformed character reference', phase: 'bound', input: "<message to='bob@localhost'><body>&#xZZ;</body></message>", condition: 'not-well-formed' },
  { name: 'undeclared prefix on a stanza', phase: 'bound', input: "<foo:message to='bob@localhost'/>", condition: 'bad-namespace-prefix' },
  { name: 'duplicate attribute', phase: 'bound', input: "<message to='a@localhost' to='b@localhost'/>", condition: 'not-well-formed' },
  { name: 'unquoted attribute', phase: 'bound', input: '<message to=bob@localhost/>', condition: 'not-well-formed' },
  { name: 'control character', phase: 'bound', input: "<message to='bob@localhost'><body>a\u0001b</body></message>", condition: 'not-well-formed' },
  { name: 'invalid UTF-8 bytes', phase: 'bound', input: Buffer.concat([Buffer.from("<message><body>"), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</body></message>')]), condition: 'unsupported-encoding' },
  { name: 'oversized stanza', phase: 'bound', input: `<message to='bob@localhost'><body>${'x'.repeat(300_000)}</body></message>`, condition: 'policy-violation' },
  { name: 'stanza in a foreign namespace', phase: 'bound', input: "<message xmlns='jabber:server' to='bob@localhost'/>", condition: 'unsupported-stanza-type' },
  { name: 'prefixed stanza in a foreign namespace', phase: 'bound', input: "<s:message xmlns:s='jabber:server' to='bob@localhost'/>", condition: 'unsupported-stanza-type' },
  // Namespaces in XML: one expanded attribute name twice, and the reserved prefixes and names.
  { name: 'two attributes with one expanded name', phase: 'bound', input: "<message xmlns:a='urn:x' xmlns:b='urn:x' a:n='1' b:n='2' to='bob@localhost'/>", condition: 'not-well-formed' },
  { name: 'xml prefix bound to another namespace', phase: 'bound', input: "<message xmlns:xml='urn:x' to='bob@localhost'/>", condition: 'not-well-formed' },
  { name: 'another prefix bound to the XML namespace', phase: 'bound', input: "<message xmlns:x='http://www.w3.org/XML/1998/namespace' to='bob@localhost'/>", condition: 'not-well-formed' },
  { name: 'xmlns prefix declared', phase: 'bound', input: "<message xmlns:xmlns='urn:x' to='bob@localhost'/>", condition: 'not-well-formed' },
  { name: 'a prefix bound to the xmlns namespace', phase: 'bound', input: "<message xmlns:x='http://www.w3.org/2000/xmlns/' to='bob@localhost'/>", condition: 'not-well-formed' },
  { name: 'xml prefix rebound on the stream header', phase: 'raw', input: "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:xml='urn:x' version='1.0' to='localhost'>", condition: 'not-well-formed' },
];

interface StanzaCase {
  name: string;
  stanza: string;
  condition: string;
}

const stanzaCases: StanzaCase[] = [
  { name: 'to with two @', stanza: "<message to='a@b@localhost' id='s1'><body>x</body></message>", condition: 'jid-malformed' },
  { name: 'to with an empty localpart', stanza: "<message to='@localhost' id='s2'><body>x</body></message>", condition: 'jid-malformed' },
  { name: 'to with an empty resource', stanza: "<iq to='bob@localhost/' type='get' id='s3'><ping xmlns='urn:xmpp:ping'/></iq>", condition: 'jid-malformed' },
  { name: 'to with a 1024-byte localpart', stanza: `<message to='${'a'.repeat(1024)}@localhost' id='s4'><body>x</body></message>`, condition: 'jid-malformed' },
  { name: 'unknown presence type', stanza: "<presence to='bob@localhost' type='dance' id='s5'/>", condition: 'bad-request' },
  { name: 'IQ get without payload', stanza: "<iq type='get' to='localhost' id='s6'/>", condition: 'bad-request' },
  { name: 'message to an unknown user', stanza: "<message to='nobody@localhost' id='s7' type='chat'><body>x</body></message>", condition: 'service-unavailable' },
  { name: 'IQ to an unknown full JID', stanza: "<iq to='nobody@localhost/x' type='get' id='s8'><ping xmlns='urn:xmpp:ping'/></iq>", condition: 'service-unavailable' },
];

const SASL_GARBAGE: [string, string, string][] = [
  ['PLAIN without separators', 'PLAIN', Buffer.from('justgarbage').toString('base64')],
  ['SCRAM first message without gs2 header', 'SCRAM-SHA-256', Buffer.from('garbage').toString('base64')],
  ['SCRAM first message requesting channel binding', 'SCRAM-SHA-1', Buffer.from('p=tls-unique,,n=alice,r=abc').toString('base64')],
  // Crafted usernames that once made JID preparation backtrack exponentially.
  ['PLAIN with a crafted authcid', 'PLAIN', Buffer.from(`\0${'a'.repeat(40)}\u00a0\0secret`).toString('base64')],
  ['SCRAM with a crafted username', 'SCRAM-SHA-256', Buffer.from(`n,,n=${'a'.repeat(40)}\u00a0,r=abcdefgh`).toString('base64')],
];

describe('malformed input', () => {
  let server: TestServer;
  let bystanderA: RawClient;
  let bystanderB: RawClient;
  let round = 0;

  before(async () => {
    server = await startTestServer({ properties: {
      'xmpp.auth.failure-delay': '0',
      'xmpp.presence.max-directed': '5',
      'xmpp.offline.max-bytes-per-user': '2000',
    } });
    await server.addUser('alice', 'secret');
    await server.addUser('bob', 'secret');
    await server.addUser('carol', 'secret');
    await server.addUser('dave', 'secret');
    bystanderA = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'watch' });
    bystanderB = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'watch' });
  });
  after(async () => {
    await bystanderA.close();
    await bystanderB.close();
    await server.stop();
  });

  /** The bystanders still exchange a message: no other session was disturbed. */
  async function bystandersUnharmed(): Promise<void> {
    const body = `still here ${++round}`;
    bystanderA.send(`<message to='bob@localhost/watch' type='chat'><body>${body}</body></message>`);
    const got = await bystanderB.expect((e) => e.name === 'message' && e.getChildText('body') === body);
    assert.equal(got.attrs.from, 'alice@localhost/watch');
  }

  async function clientIn(phase: Phase): Promise<RawClient> {
    if (phase === 'bound') return RawClient.login(server.c2sPort, 'carol', 'secret');
    const c = await RawClient.connect(server.c2sPort);
    if (phase === 'opened') await c.open();
    return c;
  }

  for (const tc of streamCases) {
    test(`${tc.phase}: ${tc.name} -> <${tc.condition}/> stream error`, async () => {
      const c = await clientIn(tc.phase);
      c.send(tc.input as string);
      assert.equal(await c.expectStreamError(), tc.condition);
      await c.closed;
      await bystandersUnharmed();
    });
  }

  for (const tc of stanzaCases) {
    test(`stanza: ${tc.name} -> <${tc.condition}/> stanza error, stream stays up`, async () => {
      const c = await clientIn('bound');
      const id = /id='([^']+)'/.exec(tc.stanza)![1];
      c.send(tc.stanza);
      const reply = await c.expect((e) => e.attrs.id === id && e.attrs.type === 'error');
      assert.ok(reply.getChild('error')?.getChild(tc.condition), `expected ${tc.condition} in ${reply}`);
      const pong = await c.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
      assert.equal(pong.attrs.type, 'result', 'the stream is still usable');
      await c.close();
      await bystandersUnharmed();
    });
  }

  for (const [name, mechanism, payload] of SASL_GARBAGE) {
    test(`SASL garbage: ${name} -> <failure/>, the stream stays up`, async () => {
      const c = await clientIn('opened');
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${payload}</auth>`);
      const failure = await c.expect((e) => e.name === 'failure');
      const condition = failure.getChildElements().find((e) => e.name !== 'text')?.name;
      assert.ok(condition === 'malformed-request' || condition === 'not-authorized', `got ${condition}`);
      assert.equal((await c.authPlain('carol', 'secret')).name, 'success', 'a correct attempt still works');
      await c.close();
      await bystandersUnharmed();
    });
  }

  test('input sent ahead of a pending SASL answer is bounded: over the bound, <policy-violation/>', async () => {
    const c = await clientIn('opened');
    const wrong = Buffer.from('\0carol\0wrong').toString('base64');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${wrong}</auth>` + '<x/>'.repeat(100_000));
    assert.equal(await c.expectStreamError(), 'policy-violation');
    await c.closed;
    await bystandersUnharmed();
  });

  test('a stream error from the client ends the stream, answered with no error of ours', async () => {
    const c = await clientIn('bound');
    c.send("<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    await c.closed;
    assert.doesNotMatch(c.received, /<stream:error/, 'nothing but the close of our stream');
    assert.match(c.received, /<\/stream:stream>$/);
    await bystandersUnharmed();
  });

  test('a resource with a byte order mark is refused with <bad-request/>, not trimmed', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    assert.equal((await c.authPlain('carol', 'secret')).name, 'success');
    await c.open();
    const reply = await c.iq("<iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>\ufeffphone</resource></bind></iq>");
    assert.equal(reply.attrs.type, 'error');
    assert.equal(errorCondition(reply), 'bad-request');
    assert.match(await c.bind('phone'), /\/phone$/, 'the stream stays usable');
    await c.close();
  });

  test('directed presence to more addresses than xmpp.presence.max-directed is refused with <resource-constraint/>', async () => {
    const c = await clientIn('bound');
    for (let i = 0; i < 5; i++) c.send(`<presence id='d${i}' to='alice@localhost/peer${i}'/>`);
    c.send("<presence id='again' to='alice@localhost/peer0'/>"); // an address already counted is fine
    c.send("<presence id='over' to='alice@localhost/peer5'/>");
    const refused = await c.expect((e) => e.name === 'presence' && e.attrs.type === 'error');
    assert.equal(refused.attrs.id, 'over', 'only the sixth address is refused');
    assert.equal(errorCondition(refused), 'resource-constraint');
    await c.close();
    await bystandersUnharmed();
  });

  test('prefixed stanzas and nonzas are what their namespace says (RFC 6120 allows any prefix)', async () => {
    const c = await RawClient.connect(server.c2sPort);
    await c.open();
    const payload = Buffer.from('\0carol\0secret').toString('base64');
    const success = c.expect((e) => e.name === 'success' || e.name === 'failure');
    c.send(`<sasl:auth xmlns:sasl='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${payload}</sasl:auth>`);
    assert.equal((await success).name, 'success');
    await c.open();
    await c.bind();
    const pong = c.expect((e) => e.name === 'iq' && e.attrs.id === 'px1');
    c.send("<c:iq xmlns:c='jabber:client' type='get' to='localhost' id='px1'><ping xmlns='urn:xmpp:ping'/></c:iq>");
    assert.equal((await pong).attrs.type, 'result');
    c.send("<c:message xmlns:c='jabber:client' to='bob@localhost/watch' type='chat'><c:body>prefixed</c:body></c:message>");
    const got = await bystanderB.expect((e) => e.name === 'message' && e.getChildText('body') === 'prefixed');
    assert.equal(got.attrs.from, c.jid);
    await c.close();
    await bystandersUnharmed();
  });

  test('offline messages beyond xmpp.offline.max-bytes-per-user are refused with <resource-constraint/>', async () => {
    const c = await clientIn('bound');
    const body = 'z'.repeat(300); // about 550 bytes each once stored with its addresses and delay stamp
    for (let i = 0; i < 4; i++) c.send(`<message id='q${i}' to='dave@localhost' type='chat'><body>${body}</body></message>`);
    const refused = await c.expect((e) => e.name === 'message' && e.attrs.type === 'error');
    assert.equal(refused.attrs.id, 'q3', 'three fit in 2000 bytes, the fourth does not');
    assert.equal(errorCondition(refused), 'resource-constraint');
    await c.close();
    const dave = await RawClient.login(server.c2sPort, 'dave', 'secret', { presence: true });
    const got = [await dave.expect((e) => e.name === 'message'), await dave.expect((e) => e.name === 'message'), await dave.expect((e) => e.name === 'message')];
    assert.deepEqual(got.map((m) => m.attrs.id), ['q0', 'q1', 'q2']);
    await dave.close();
  });

  test('a client dropping mid-stanza leaves nothing behind', async () => {
    const c = await clientIn('bound');
    c.send("<message to='alice@localhost/watch'><body>half a stan");
    c.destroy();
    await c.closed;
    await bystandersUnharmed();
    assert.ok(await bystanderA.nothing((e) => e.getChildText('body')?.startsWith('half') ?? false, 300));
  });
});
