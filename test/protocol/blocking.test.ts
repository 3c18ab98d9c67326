// XEP-0191 against a real server process, on both databases: the list and its pushes, what
// a block does to stanzas either way, and the presence a block and an unblock send.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../server/storage/types.ts';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS = 'urn:xmpp:blocking';
const items = (el: Element): string[] => el.getChildren('item').map((i) => i.attrs.jid!);
const isPush = (name: string) => (el: Element): boolean => el.name === 'iq' && el.attrs.type === 'set' && !!el.getChild(name, NS);
const item = (jid: string, subscription: RosterItem['subscription']): RosterItem =>
  ({ jid, name: null, subscription, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] });

/** A restarted test server listens a moment after start() returns. */
async function listening(server: TestServer): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    try {
      (await RawClient.connect(server.c2sPort)).destroy();
      return;
    } catch {
      // not yet
    }
  }
  throw new Error('the restarted server does not listen');
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`blocking command (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient; // asked for the blocklist: gets pushes
    let alice2: RawClient; // did not ask: gets none
    let bob: RawClient;
    let carol: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await server.addUser(u, 'secret');
      // carol is subscribed to alice's presence (and alice to carol's).
      const storage = await server.storage();
      await storage.roster.put('alice', item('carol@localhost', 'both'));
      await storage.roster.put('carol', item('alice@localhost', 'both'));
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'desk', presence: true });
      alice2 = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'phone' });
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'home' });
      carol = await RawClient.login(server.c2sPort, 'carol', 'secret', { resource: 'home', presence: true });
    });

    after(async () => {
      for (const c of [alice, alice2, bob, carol]) await c?.close();
      await server?.stop();
    });

    test('the blocklist starts empty', async () => {
      const answer = await alice.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
      assert.equal(answer.attrs.type, 'result');
      assert.deepEqual(items(answer.getChild('blocklist', NS)!), []);
    });

    test('blocking answers, pushes to resources that asked for the list, and is listed', async () => {
      const answer = await alice.iq(`<iq type='set'><block xmlns='${NS}'><item jid='bob@localhost'/></block></iq>`);
      assert.equal(answer.attrs.type, 'result');
      const push = await alice.expect(isPush('block'));
      assert.deepEqual(items(push.getChild('block')!), ['bob@localhost']);
      assert.equal(push.attrs.to, alice.jid);
      assert.ok(await alice2.nothing(isPush('block'), 300), 'a resource that never asked gets no push');
      const list = await alice.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
      assert.deepEqual(items(list.getChild('blocklist')!), ['bob@localhost']);
    });

    test('a blocked contact\'s message and IQ get service-unavailable, presence silence; nothing arrives', async () => {
      bob.send(`<message to='alice@localhost' type='chat' id='b1'><body>hello?</body></message>`);
      const error = await bob.expect((el) => el.name === 'message' && el.attrs.id === 'b1');
      assert.equal(error.attrs.type, 'error');
      assert.equal(errorCondition(error), 'service-unavailable');
      const iq = await bob.iq(`<iq type='get' to='${alice.jid}'><query xmlns='jabber:iq:version'/></iq>`);
      assert.equal(errorCondition(iq), 'service-unavailable');
      const vcard = await bob.iq(`<iq type='get' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`);
      assert.equal(errorCondition(vcard), 'service-unavailable', 'the server does not answer for a blocking user either');
      bob.send(`<presence to='alice@localhost' id='bp'/>`);
      assert.ok(await bob.nothing((el) => el.attrs.id === 'bp', 300), 'no error for presence');
      assert.ok(await alice.nothing((el) => el.attrs.from?.startsWith('bob@') === true, 300));
      assert.ok(await alice2.nothing((el) => el.attrs.from?.startsWith('bob@') === true, 100));
    });

    test('the user\'s own message to a blocked contact gets not-acceptable with <blocked/>', async () => {
      alice.send(`<message to='bob@localhost' type='chat' id='a1'><body>psst</body></message>`);
      const error = await alice.expect((el) => el.name === 'message' && el.attrs.id === 'a1');
      assert.equal(error.attrs.type, 'error');
      assert.equal(errorCondition(error), 'not-acceptable');
      assert.ok(error.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'));
      assert.ok(await bob.nothing((el) => el.attrs.id === 'a1', 300));
    });

    test('a subscribed contact sees the user go offline when blocked and come back when unblocked', async () => {
      await carol.expect((el) => el.name === 'presence' && el.attrs.from === alice.jid && el.attrs.type === undefined);
      await alice.iq(`<iq type='set'><block xmlns='${NS}'><item jid='carol@localhost'/></block></iq>`);
      const gone = await carol.expect((el) => el.name === 'presence' && el.attrs.from === alice.jid);
      assert.equal(gone.attrs.type, 'unavailable');
      await alice.iq(`<iq type='set'><unblock xmlns='${NS}'><item jid='carol@localhost'/></unblock></iq>`);
      const back = await carol.expect((el) => el.name === 'presence' && el.attrs.from === alice.jid);
      assert.equal(back.attrs.type, undefined);
      const pushes = [await alice.expect(isPush('block')), await alice.expect(isPush('unblock'))];
      assert.deepEqual(items(pushes[1]!.getChild('unblock')!), ['carol@localhost']);
    });

    test('a full JID blocks only that resource', async () => {
      const dave1 = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'phone' });
      const dave2 = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'laptop' });
      await alice.iq(`<iq type='set'><block xmlns='${NS}'><item jid='dave@localhost/phone'/></block></iq>`);
      dave1.send(`<message to='${alice.jid}' type='chat' id='d1'><body>from the phone</body></message>`);
      assert.equal(errorCondition(await dave1.expect((el) => el.attrs.id === 'd1')), 'service-unavailable');
      dave2.send(`<message to='${alice.jid}' type='chat' id='d2'><body>from the laptop</body></message>`);
      const got = await alice.expect((el) => el.name === 'message' && el.attrs.id === 'd2');
      assert.equal(got.getChildText('body'), 'from the laptop');
      await dave1.close();
      await dave2.close();
    });

    test('a user with no session is protected too: nothing is stored for them', async () => {
      await (await server.storage()).blocklist.add('erin', ['bob@localhost']);
      bob.send(`<message to='erin@localhost' type='chat' id='e1'><body>are you there?</body></message>`);
      assert.equal(errorCondition(await bob.expect((el) => el.attrs.id === 'e1')), 'service-unavailable');
      assert.equal(await (await server.storage()).offline.count('erin'), 0);
    });

    test('malformed requests and other users\' lists are refused', async () => {
      const empty = await alice.iq(`<iq type='set'><block xmlns='${NS}'/></iq>`);
      assert.equal(errorCondition(empty), 'bad-request');
      const bad = await alice.iq(`<iq type='set'><block xmlns='${NS}'><item jid='@@nonsense'/></block></iq>`);
      assert.equal(errorCondition(bad), 'jid-malformed');
      const noJid = await alice.iq(`<iq type='set'><block xmlns='${NS}'><item/></block></iq>`);
      assert.equal(errorCondition(noJid), 'bad-request');
      const others = await carol.iq(`<iq type='get' to='alice@localhost'><blocklist xmlns='${NS}'/></iq>`);
      assert.equal(errorCondition(others), 'forbidden');
    });

    test('unblocking everyone pushes an empty unblock and lets messages through again', async () => {
      const answer = await alice.iq(`<iq type='set'><unblock xmlns='${NS}'/></iq>`);
      assert.equal(answer.attrs.type, 'result');
      const push = await alice.expect((el) => isPush('unblock')(el) && el.getChild('unblock')!.getChildElements().length === 0);
      assert.ok(push);
      const list = await alice.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
      assert.deepEqual(items(list.getChild('blocklist')!), []);
      bob.send(`<message to='${alice.jid}' type='chat' id='b2'><body>finally</body></message>`);
      const got = await alice.expect((el) => el.name === 'message' && el.attrs.id === 'b2');
      assert.equal(got.getChildText('body'), 'finally');
    });

    test('the block survives a restart of the server', async () => {
      await alice.iq(`<iq type='set'><block xmlns='${NS}'><item jid='bob@localhost'/></block></iq>`);
      await server.kill();
      await server.start();
      await listening(server);
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'desk' });
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'home' });
      bob.send(`<message to='alice@localhost' type='chat' id='b3'><body>again?</body></message>`);
      assert.equal(errorCondition(await bob.expect((el) => el.attrs.id === 'b3')), 'service-unavailable');
      const list = await alice.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
      assert.deepEqual(items(list.getChild('blocklist')!), ['bob@localhost']);
    });
  });
}
