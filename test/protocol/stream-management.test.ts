// Stream management (XEP-0198) against a real server process over TCP: enabling, acks both
// ways, every <failed/> path, resumption with the unacknowledged stanzas sent again, the
// resumption timeout (messages then kept offline, IQs answered with errors) and the bound
// on unacknowledged stanzas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS_SM = 'urn:xmpp:sm:3';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const isSm = (name: string) => (el: Element): boolean => el.name === name && el.attrs.xmlns === NS_SM;
const isMessage = (el: Element): boolean => el.name === 'message';
const failedCondition = (el: Element): string | undefined => el.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name;

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Authenticated and restarted, not bound: where <resume/> goes. */
async function authenticated(port: number, user: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.open();
  assert.equal((await c.authPlain(user, 'secret')).name, 'success');
  await c.open();
  return c;
}

async function enable(c: RawClient, attrs = "resume='true'"): Promise<Element> {
  const answer = c.expect((el) => el.attrs.xmlns === NS_SM && (el.name === 'enabled' || el.name === 'failed'));
  c.send(`<enable xmlns='${NS_SM}' ${attrs}/>`);
  return answer;
}

/** Receives `n` messages and returns their ids. */
async function messages(c: RawClient, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await c.expect(isMessage)).attrs.id!);
  return ids;
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`stream management (${dialect})`, () => {
    let server: TestServer;
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan'];

    before(async () => {
      server = await startTestServer({ dialect, properties: { 'xmpp.sm.max-unacked': '20', 'xmpp.sm.ack-request-every': '5' } });
      for (const u of users) await server.addUser(u, 'secret');
      const storage = await server.storage();
      for (const [owner, contact] of [['heidi', 'ivan'], ['ivan', 'heidi']] as const) {
        await storage.roster.put(owner, { jid: `${contact}@localhost`, name: null, subscription: 'both', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] });
      }
    });

    after(async () => {
      await server?.stop();
    });

    test('the sm feature is offered after authentication only; enable before bind fails with unexpected-request', async () => {
      const c = await RawClient.connect(server.c2sPort);
      const before = await c.open();
      assert.equal(before.getChild('sm', NS_SM), undefined);
      await c.authPlain('alice', 'secret');
      const features = await c.open();
      assert.ok(features.getChild('sm', NS_SM), String(features));
      const failed = await enable(c);
      assert.equal(failed.name, 'failed');
      assert.equal(failedCondition(failed), 'unexpected-request');
      await c.bind('early');
      const enabled = await enable(c, '');
      assert.equal(enabled.name, 'enabled');
      assert.equal(enabled.attrs.id, undefined, 'no id without resumption');
      const again = await enable(c);
      assert.equal(failedCondition(again), 'unexpected-request', 'enabling twice is refused');
      await c.close();
    });

    test('enabled with resumption names an id and the timeout, capped at the maximum', async () => {
      const c = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'cap' });
      const enabled = await enable(c, "resume='true' max='100000'");
      assert.equal(enabled.name, 'enabled');
      assert.ok(enabled.attrs.id && enabled.attrs.id.length >= 16, String(enabled));
      assert.equal(enabled.attrs.resume, 'true');
      assert.equal(enabled.attrs.max, '900');
      await c.close();
    });

    test('acks both ways: <r/> is answered with what the server handled; the server asks every 5 stanzas', async () => {
      const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'acks' });
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'acks' });
      await enable(alice);
      alice.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      alice.send(`<message to='${bob.jid}' id='a1'><body>hi</body></message>`);
      const a = alice.expect(isSm('a'));
      alice.send(`<r xmlns='${NS_SM}'/>`);
      assert.equal((await a).attrs.h, '2');
      // The ping's result is the first stanza sent; four messages make five.
      for (let i = 1; i <= 4; i++) bob.send(`<message to='${alice.jid}' id='b${i}'><body>${i}</body></message>`);
      await alice.expect(isSm('r'));
      assert.deepEqual(await messages(alice, 4), ['b1', 'b2', 'b3', 'b4']);
      alice.send(`<a xmlns='${NS_SM}' h='5'/>`);
      // A wrong count would end the stream: it stays usable.
      const pong = await alice.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      assert.equal(pong.attrs.type, 'result');
      await alice.close();
      await bob.close();
    });

    test('an ack of more than was sent: <failed/> with handled-count-too-high, then undefined-condition', async () => {
      const c = await RawClient.login(server.c2sPort, 'carol', 'secret');
      await enable(c);
      const failed = c.expect(isSm('failed'));
      c.send(`<a xmlns='${NS_SM}' h='7'/>`);
      const f = await failed;
      assert.equal(failedCondition(f), 'undefined-condition');
      const high = f.getChild('handled-count-too-high', NS_SM)!;
      assert.equal(high.attrs.h, '7');
      assert.equal(high.attrs['send-count'], '0');
      assert.equal(f.attrs.h, '0');
      assert.equal(await c.expectStreamError(), 'undefined-condition');
      await c.closed;
    });

    test('an ack without a valid h ends the stream the same way', async () => {
      const c = await RawClient.login(server.c2sPort, 'carol', 'secret');
      await enable(c);
      c.send(`<a xmlns='${NS_SM}' h='-1'/>`);
      const f = await c.expect(isSm('failed'));
      assert.equal(failedCondition(f), 'undefined-condition');
      assert.equal(await c.expectStreamError(), 'undefined-condition');
    });

    test('<r/> and <a/> without stream management enabled are unsupported-stanza-type', async () => {
      for (const nonza of [`<r xmlns='${NS_SM}'/>`, `<a xmlns='${NS_SM}' h='0'/>`]) {
        const c = await RawClient.login(server.c2sPort, 'carol', 'secret');
        c.send(nonza);
        assert.equal(await c.expectStreamError(), 'unsupported-stanza-type');
      }
    });

    test('resumption: the same JID, the unacknowledged stanzas again in order, nothing twice, then counting goes on', async () => {
      const alice = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'phone', presence: true });
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'resume' });
      const id = (await enable(alice)).attrs.id!;
      for (let i = 1; i <= 3; i++) bob.send(`<message to='${alice.jid}' id='m${i}'><body>${i}</body></message>`);
      assert.deepEqual(await messages(alice, 3), ['m1', 'm2', 'm3']);
      alice.send(`<a xmlns='${NS_SM}' h='1'/>`);
      // The client has sent one stanza (its presence before enable does not count) ...
      alice.send(`<message to='${bob.jid}' id='from-alice'><body>x</body></message>`);
      await bob.expect((el) => el.attrs.id === 'from-alice');
      alice.destroy();
      await alice.closed;
      // ... while detached, stanzas to the full and to the bare JID are kept for it: it is still online.
      bob.send(`<message to='${alice.jid}' id='m4'><body>4</body></message>`);
      bob.send(`<message to='dave@localhost' id='m5' type='chat'><body>5</body></message>`);
      await new Promise((r) => setTimeout(r, 300));

      const back = await authenticated(server.c2sPort, 'dave');
      const resumed = back.expect(isSm('resumed'));
      back.send(`<resume xmlns='${NS_SM}' previd='${id}' h='1'/>`);
      const r = await resumed;
      assert.equal(r.attrs.previd, id);
      assert.equal(r.attrs.h, '1', 'the server had handled the one stanza');
      assert.deepEqual(await messages(back, 4), ['m2', 'm3', 'm4', 'm5']);
      assert.ok(await back.nothing(isMessage, 300), 'nothing comes twice');
      // The server asks for an ack of what it sent again; the count goes on from 5.
      await back.expect(isSm('r'));
      back.send(`<a xmlns='${NS_SM}' h='5'/>`);
      const pong = await back.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      assert.equal(pong.attrs.to, 'dave@localhost/phone', 'the session kept its JID');
      assert.ok(await bob.nothing((el) => el.name === 'presence' && el.attrs.type === 'unavailable', 200));
      const rq = back.expect(isSm('a'));
      back.send(`<r xmlns='${NS_SM}'/>`);
      assert.equal((await rq).attrs.h, '2');
      await back.close();
      await bob.close();
    });

    test('resumption while the old connection still looks alive replaces it', async () => {
      const first = await RawClient.login(server.c2sPort, 'erin', 'secret', { resource: 'laptop' });
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'alive' });
      const id = (await enable(first)).attrs.id!;
      bob.send(`<message to='${first.jid}' id='x1'><body>1</body></message>`);
      await first.expect(isMessage);
      const second = await authenticated(server.c2sPort, 'erin');
      const resumed = second.expect(isSm('resumed'));
      second.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
      await resumed;
      assert.equal(await first.expectStreamError(), 'conflict');
      await first.closed;
      assert.deepEqual(await messages(second, 1), ['x1'], 'the unacknowledged message comes again');
      bob.send(`<message to='${second.jid || 'erin@localhost/laptop'}' id='x2'><body>2</body></message>`);
      assert.deepEqual(await messages(second, 1), ['x2']);
      await second.close();
      await bob.close();
    });

    test('failed resumptions: unknown id, another account\'s id, a bad count, after binding', async () => {
      const owner = await RawClient.login(server.c2sPort, 'frank', 'secret');
      const id = (await enable(owner)).attrs.id!;

      const stranger = await authenticated(server.c2sPort, 'grace');
      stranger.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
      const notYours = await stranger.expect(isSm('failed'));
      assert.equal(failedCondition(notYours), 'item-not-found');
      stranger.send(`<resume xmlns='${NS_SM}' previd='bm90aGluZw' h='0'/>`);
      assert.equal(failedCondition(await stranger.expect(isSm('failed'))), 'item-not-found');
      // After a failed resumption the client binds as usual.
      await stranger.bind();
      stranger.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
      assert.equal(failedCondition(await stranger.expect(isSm('failed'))), 'unexpected-request');
      await stranger.close();

      const tooHigh = await authenticated(server.c2sPort, 'frank');
      tooHigh.send(`<resume xmlns='${NS_SM}' previd='${id}' h='3'/>`);
      const f = await tooHigh.expect(isSm('failed'));
      assert.equal(failedCondition(f), 'undefined-condition');
      assert.equal(f.getChild('handled-count-too-high', NS_SM)?.attrs['send-count'], '0');
      // The session the bad count named is over: its connection is closed.
      assert.equal(await owner.expectStreamError(), 'undefined-condition');
      await tooHigh.close();
    });

    test('after the resumption timeout the session ends: unavailable presence, messages offline, IQs bounced', async () => {
      const contact = await RawClient.login(server.c2sPort, 'ivan', 'secret', { resource: 'watching', presence: true });
      const alice = await RawClient.login(server.c2sPort, 'heidi', 'secret', { resource: 'gone', presence: true });
      const fromHeidi = (type?: string) => (el: Element): boolean => el.name === 'presence' && el.attrs.from === 'heidi@localhost/gone' && el.attrs.type === type;
      await contact.expect(fromHeidi());
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'timeout' });
      const id = (await enable(alice, "resume='true' max='2'")).attrs.id!;
      bob.send(`<message to='${alice.jid}' id='t1' type='chat'><body>before</body></message>`);
      await alice.expect(isMessage);
      alice.destroy();
      await alice.closed;
      const detachedAt = Date.now();
      bob.send(`<message to='${alice.jid}' id='t2' type='chat'><body>while detached</body></message>`);
      bob.send(`<iq to='${alice.jid}' id='q1' type='get'><query xmlns='jabber:iq:version'/></iq>`);
      assert.ok(await contact.nothing(fromHeidi('unavailable'), 1_000), 'detached, heidi is still available to her contacts');
      const bounced = await bob.expect((el) => el.name === 'iq' && el.attrs.id === 'q1', 8_000);
      assert.equal(bounced.attrs.type, 'error');
      assert.equal(errorCondition(bounced), 'service-unavailable');
      // Unavailable only when the resumption time is over, not when the connection dropped.
      await contact.expect(fromHeidi('unavailable'), 8_000);
      assert.ok(Date.now() - detachedAt >= 2_000, `unavailable came ${Date.now() - detachedAt} ms after the drop`);
      await contact.close();
      await until('both unacknowledged messages are stored', async () => (await (await server.storage()).offline.count('heidi')) === 2);

      const late = await authenticated(server.c2sPort, 'heidi');
      late.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
      assert.equal(failedCondition(await late.expect(isSm('failed'))), 'item-not-found');
      await late.bind('again');
      late.send('<presence/>');
      const offline = await messages(late, 2);
      assert.deepEqual(offline, ['t1', 't2']);
      await late.close();
      await bob.close();
    });

    test('more unacknowledged stanzas than xmpp.sm.max-unacked end the session with resource-constraint; they are kept offline', async () => {
      const alice = await RawClient.login(server.c2sPort, 'grace', 'secret', { resource: 'slow' });
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'flood' });
      await enable(alice);
      for (let i = 1; i <= 22; i++) bob.send(`<message to='${alice.jid}' id='f${i}' type='chat'><body>${i}</body></message>`);
      assert.equal(await alice.expectStreamError(), 'resource-constraint');
      await until('the unacknowledged messages are stored', async () => (await (await server.storage()).offline.count('grace')) === 22);
      await bob.close();
    });
  });
}
