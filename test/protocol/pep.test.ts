// XEP-0163 over XEP-0060 against a real server process, on both databases: publishing,
// retrieval, notifications filtered by caps (XEP-0115), the last item at presence, retract
// and node deletion, and the errors of each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../server/storage/types.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { NS_PUBSUB, answerCaps, capsPresence, capsVer, eventContent, expectEvent, publishIq, pubsubCondition } from '../helpers/pep-client.ts';

const TUNE = 'http://jabber.org/protocol/tune';
const MOOD = 'http://jabber.org/protocol/mood';
const FEATURES = ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', `${TUNE}+notify`, `${MOOD}+notify`];
const tune = (title: string): string => `<tune xmlns='${TUNE}'><title>${title}</title></tune>`;

const contact = (jid: string, subscription: RosterItem['subscription']): RosterItem => ({
  jid, name: null, subscription, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [],
});

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`PEP (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let alice2: RawClient;
    let bob: RawClient;
    let carol: RawClient;

    /** Logs in, announces caps and answers the server's disco#info for them. */
    const online = async (user: string, resource: string, features = FEATURES): Promise<RawClient> => {
      const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
      c.send(answerCaps(c).presence(features));
      return c;
    };

    before(async () => {
      server = await startTestServer({ dialect, properties: { 'xmpp.pep.max-payload-bytes': '2048', 'xmpp.pep.max-items': '5' } });
      for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
      const storage = await server.storage();
      // bob and alice share presence both ways; carol is a stranger to alice.
      await storage.roster.put('alice', contact('bob@localhost', 'both'));
      await storage.roster.put('bob', contact('alice@localhost', 'both'));
      // dave is subscribed to alice's presence, she is not to his.
      await storage.roster.put('alice', contact('dave@localhost', 'from'));
      await storage.roster.put('dave', contact('alice@localhost', 'to'));
      alice = await online('alice', 'desk');
      bob = await online('bob', 'phone');
      carol = await online('carol', 'pc');
      // Every session's caps are known before the tests publish.
      await new Promise((r) => setTimeout(r, 500));
    });

    after(async () => {
      for (const c of [alice, alice2, bob, carol]) await c?.close();
      await server?.stop();
    });

    test('the account is a PEP service: identity pubsub/pep and the pubsub features', async () => {
      const answer = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      const query = answer.getChild('query')!;
      assert.ok(query.getChildren('identity').some((i) => i.attrs.category === 'pubsub' && i.attrs.type === 'pep'));
      const vars = query.getChildren('feature').map((f) => f.attrs.var);
      for (const f of ['publish', 'publish-options', 'auto-create', 'retrieve-items', 'retract-items', 'delete-nodes', 'config-node', 'access-presence', 'access-open', 'access-whitelist', 'last-published']) {
        assert.ok(vars.includes(`${NS_PUBSUB}#${f}`), `has pubsub#${f}`);
      }
      const host = await alice.iq(`<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      assert.ok(!host.getChild('query')!.getChildren('identity').some((i) => i.attrs.type === 'pep'), 'the server itself is no PEP service');
    });

    test('the server asked each resource for its caps once and keeps them in the shared cache', async () => {
      const storage = await server.storage();
      const info = await storage.caps.get(`sha-1 ${capsVer(FEATURES)}`);
      assert.ok(info, 'the verification string is stored');
      assert.deepEqual([...info.features].sort(), [...FEATURES].sort());
    });

    test('publishing creates the node; the owner\'s and the contact\'s +notify resources get the event, a stranger does not', async () => {
      const toBob = expectEvent(bob, TUNE);
      const toAlice = expectEvent(alice, TUNE);
      const answer = await alice.iq(publishIq(TUNE, 't1', tune('Yesterday')));
      assert.equal(answer.attrs.type, 'result');
      assert.equal(answer.getChild('pubsub', NS_PUBSUB)!.getChild('publish')!.getChild('item')!.attrs.id, 't1');
      for (const message of [await toBob, await toAlice]) {
        assert.equal(message.attrs.type, 'headline');
        assert.equal(message.attrs.from, 'alice@localhost');
        const item = eventContent(message).getChild('item')!;
        assert.equal(item.attrs.id, 't1');
        assert.equal(item.getChild('tune', TUNE)!.getChildText('title'), 'Yesterday');
      }
      assert.ok(await carol.nothing((el) => el.name === 'message', 700), 'carol has no subscription to alice');
    });

    test('items are retrieved all, by id and by max_items, by the owner and a contact; the stranger is refused', async () => {
      await alice.iq(publishIq(TUNE, 't2', tune('Help!')));
      await alice.iq(publishIq(TUNE, 't3', tune('Something')));
      const all = await bob.iq(`<iq type='get' to='alice@localhost'><pubsub xmlns='${NS_PUBSUB}'><items node='${TUNE}'/></pubsub></iq>`);
      assert.equal(all.attrs.type, 'result');
      // PEP's default max_items is 1: only the newest is kept.
      assert.deepEqual(all.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), ['t3']);
      const byId = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='${TUNE}'><item id='t3'/></items></pubsub></iq>`);
      assert.equal(byId.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChild('tune')!.getChildText('title'), 'Something');
      const gone = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='${TUNE}'><item id='t1'/></items></pubsub></iq>`);
      assert.equal(errorCondition(gone), 'item-not-found');
      const stranger = await carol.iq(`<iq type='get' to='alice@localhost'><pubsub xmlns='${NS_PUBSUB}'><items node='${TUNE}'/></pubsub></iq>`);
      assert.equal(errorCondition(stranger), 'not-authorized');
      assert.equal(pubsubCondition(stranger), 'presence-subscription-required');
      // Drain the notifications of this test.
      await expectEvent(bob, TUNE);
      await expectEvent(bob, TUNE);
      await expectEvent(alice, TUNE);
      await expectEvent(alice, TUNE);
    });

    test('a node with max_items keeps that many, and max_items in a request returns the newest', async () => {
      const opts = { 'pubsub#max_items': '3' };
      for (const id of ['m1', 'm2', 'm3', 'm4']) assert.equal((await alice.iq(publishIq('urn:example:list', id, `<entry xmlns='urn:example:list'>${id}</entry>`, opts))).attrs.type, 'result');
      const all = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='urn:example:list'/></pubsub></iq>`);
      assert.deepEqual(all.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), ['m2', 'm3', 'm4']);
      const two = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='urn:example:list' max_items='2'/></pubsub></iq>`);
      assert.deepEqual(two.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), ['m3', 'm4']);
      // 'max' is the server's maximum (xmpp.pep.max-items = 5 here), which a node of 3 does not meet.
      const max = await alice.iq(publishIq('urn:example:list', 'm5', `<entry xmlns='urn:example:list'/>`, { 'pubsub#max_items': 'max' }));
      assert.equal(errorCondition(max), 'conflict');
      assert.equal(pubsubCondition(max), 'precondition-not-met');
    });

    test('a new resource gets the last items at its initial presence, without a caps query for known caps', async () => {
      alice2 = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'laptop' });
      const caps = answerCaps(alice2);
      alice2.send(caps.presence(FEATURES));
      const last = await expectEvent(alice2, TUNE);
      assert.equal(eventContent(last).getChild('item')!.attrs.id, 't3');
      assert.ok(last.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp, 'the last item carries its date');
      assert.equal(caps.queries.length, 0, 'the caps were known: no disco#info query');
    });

    test('a resource that went unavailable gets the last items again when it is available again', async () => {
      alice2.send(`<presence type='unavailable'/>`);
      await alice.expect((el) => el.name === 'presence' && el.attrs.from === alice2.jid && el.attrs.type === 'unavailable');
      alice2.send(capsPresence(FEATURES));
      assert.equal(eventContent(await expectEvent(alice2, TUNE)).getChild('item')!.attrs.id, 't3');
    });

    test('a resource that adds +notify for a node later gets that node\'s last item then', async () => {
      const dave = await RawClient.login(server.c2sPort, 'dave', 'secret');
      const caps = answerCaps(dave);
      const plain = ['http://jabber.org/protocol/caps'];
      dave.send(caps.presence(plain, { name: 'dave' }));
      assert.ok(await dave.nothing((el) => el.name === 'message', 700));
      assert.equal(caps.queries.length, 1, 'the server asked for the unknown caps');
      dave.send(caps.presence([...plain, `${TUNE}+notify`], { name: 'dave' }));
      const last = await expectEvent(dave, TUNE);
      assert.equal(eventContent(last).getChild('item')!.attrs.id, 't3');
      assert.equal(caps.queries.length, 2);
      await dave.close();
    });

    test('caps whose disco#info does not hash to ver are not believed', async () => {
      const liar = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'liar' });
      const honest = ['http://jabber.org/protocol/caps'];
      const caps = answerCaps(liar);
      liar.send(caps.presence(honest, { lie: [...honest, `${TUNE}+notify`], name: 'liar' }));
      assert.ok(await liar.nothing((el) => el.name === 'message', 700), 'no last item for unverified caps');
      assert.equal(caps.queries.length, 1);
      assert.equal(await (await server.storage()).caps.get(`sha-1 ${capsVer(honest, 'liar')}`), null, 'nothing cached');
      await liar.close();
    });

    test('retract removes the item and, with notify, tells the resources', async () => {
      await alice.iq(publishIq(MOOD, 'happy', `<mood xmlns='${MOOD}'><happy/></mood>`));
      await expectEvent(bob, MOOD);
      const toBob = expectEvent(bob, MOOD);
      const answer = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><retract node='${MOOD}' notify='true'><item id='happy'/></retract></pubsub></iq>`);
      assert.equal(answer.attrs.type, 'result');
      assert.equal(eventContent(await toBob).getChild('retract')!.attrs.id, 'happy');
      const again = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><retract node='${MOOD}'><item id='happy'/></retract></pubsub></iq>`);
      assert.equal(errorCondition(again), 'item-not-found');
      const noId = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><retract node='${MOOD}'/></pubsub></iq>`);
      assert.equal(errorCondition(noId), 'bad-request');
      assert.equal(pubsubCondition(noId), 'item-required');
    });

    test('publishing errors: another account, no node, no or two payloads, too big, a bad FORM_TYPE', async () => {
      const other = await bob.iq(publishIq(TUNE, 'x', tune('x')).replace("<iq type='set'>", "<iq type='set' to='alice@localhost'>"));
      assert.equal(errorCondition(other), 'forbidden');
      const noNode = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish><item>${tune('x')}</item></publish></pubsub></iq>`);
      assert.equal(pubsubCondition(noNode), 'nodeid-required');
      const noPayload = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='urn:example:x'><item id='1'/></publish></pubsub></iq>`);
      assert.equal(errorCondition(noPayload), 'bad-request');
      assert.equal(pubsubCondition(noPayload), 'payload-required');
      const two = await alice.iq(publishIq('urn:example:x', '1', `<a xmlns='urn:a'/><b xmlns='urn:b'/>`));
      assert.equal(pubsubCondition(two), 'invalid-payload');
      const big = await alice.iq(publishIq('urn:example:x', '1', `<a xmlns='urn:a'>${'x'.repeat(3000)}</a>`));
      assert.equal(errorCondition(big), 'not-acceptable');
      assert.equal(pubsubCondition(big), 'payload-too-big');
      const form = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='urn:example:x'><item>${tune('x')}</item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:wrong</value></field></x></publish-options></pubsub></iq>`);
      assert.equal(errorCondition(form), 'bad-request');
      const unknownOption = await alice.iq(publishIq('urn:example:x', '1', `<a xmlns='urn:a'/>`, { 'pubsub#no_such_option': '1' }));
      assert.equal(pubsubCondition(unknownOption), 'precondition-not-met');
      const missing = await bob.iq(`<iq type='get' to='alice@localhost'><pubsub xmlns='${NS_PUBSUB}'><items node='urn:example:none'/></pubsub></iq>`);
      assert.equal(errorCondition(missing), 'item-not-found');
      const subscribe = await bob.iq(`<iq type='set' to='alice@localhost'><pubsub xmlns='${NS_PUBSUB}'><subscribe node='${TUNE}' jid='bob@localhost'/></pubsub></iq>`);
      assert.equal(errorCondition(subscribe), 'feature-not-implemented');
      assert.equal(pubsubCondition(subscribe), 'unsupported');
      // The session goes on.
      assert.equal((await alice.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)).attrs.type, 'result');
    });

    test('garbage gets stanza errors and the sessions go on', async () => {
      const cases: [string, string][] = [
        [`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'/></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='a'/><retract node='a'/></pubsub></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><frobnicate/></pubsub></iq>`, 'bad-request'],
        [`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items/></pubsub></iq>`, 'bad-request'],
        [`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='${TUNE}' max_items='-1'/></pubsub></iq>`, 'bad-request'],
        [`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='${TUNE}'><item/></items></pubsub></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='urn:x'><item id=''><x xmlns='urn:x'/></item></publish></pubsub></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='urn:x'><item>text only</item></publish></pubsub></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='${TUNE}'><x xmlns='jabber:x:data' type='form'/></configure></pubsub></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='${TUNE}'><x xmlns='jabber:x:data' type='submit'><field var='pubsub#max_items'><value>lots</value></field></x></configure></pubsub></iq>`, 'not-acceptable'],
        [`<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete/></pubsub></iq>`, 'bad-request'],
        [`<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><affiliations node='${TUNE}'><affiliation jid='@@' affiliation='member'/></affiliations></pubsub></iq>`, 'bad-request'],
      ];
      for (const [request, condition] of cases) {
        const answer = await alice.iq(request);
        assert.equal(answer.attrs.type, 'error', request);
        assert.equal(errorCondition(answer), condition, request);
      }
      // Caps the server cannot use: no hash, an unknown hash, no ver. No query, no trouble.
      const odd = await RawClient.login(server.c2sPort, 'carol', 'secret', { resource: 'odd' });
      const caps = answerCaps(odd);
      for (const c of [`<c xmlns='http://jabber.org/protocol/caps' node='n' ver='1.0'/>`, `<c xmlns='http://jabber.org/protocol/caps' hash='md4' node='n' ver='x'/>`, `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1'/>`]) {
        odd.send(`<presence>${c}</presence>`);
      }
      assert.ok(await odd.nothing((el) => el.name === 'iq', 500));
      assert.equal(caps.queries.length, 0);
      // A resource announcing one new string after another is asked about a few a minute only.
      for (let i = 0; i < 30; i++) odd.send(caps.presence([`urn:example:${i}+notify`], { name: 'odd' }));
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(caps.queries.length, 20, 'xmpp.pep.caps-queries-per-minute');
      // A resource that answers the caps query with an error gets no notifications, and no harm.
      const rude = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'rude' });
      rude.send(capsPresence([`${TUNE}+notify`], 'rude'));
      const query = await rude.expect((el) => el.name === 'iq' && el.attrs.type === 'get');
      rude.send(`<iq type='error' id='${query.attrs.id}' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
      assert.ok(await rude.nothing((el) => el.name === 'message', 500));
      for (const c of [alice, bob, odd, rude]) assert.equal((await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)).attrs.type, 'result');
      await odd.close();
      await rude.close();
    });

    test('deleting an account deletes its nodes and items', async () => {
      const storage = await server.storage();
      const erin = 'erin';
      await server.addUser(erin, 'secret');
      const c = await RawClient.login(server.c2sPort, erin, 'secret');
      assert.equal((await c.iq(publishIq(TUNE, 'e1', tune('Gone')))).attrs.type, 'result');
      assert.equal((await storage.pep.listNodes(erin)).length, 1);
      const removed = c.closed;
      c.send(`<iq type='set' id='unreg'><query xmlns='jabber:iq:register'><remove/></query></iq>`);
      await Promise.race([removed, new Promise((r) => setTimeout(r, 5000))]);
      const deadline = Date.now() + 10_000;
      while ((await storage.pep.listNodes(erin)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await storage.pep.listNodes(erin), []);
    });
  });
}
