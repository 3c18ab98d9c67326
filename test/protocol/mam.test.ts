// Message Archive Management (XEP-0313), stanza ids (XEP-0359) and RSM (XEP-0059) against a
// real server process on both databases: both sides archived, ids equal live and archived,
// every filter, paging both ways with counts, preferences, every error, offline messages,
// the retention purge and the archive going with its account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { mamQuery, NS_MAM, page, stanzaId } from '../helpers/mam-client.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { admin, ADMIN_PROPERTIES, ADMIN_USER, waitFor } from '../plugins/fixtures.ts';

const isChat = (el: Element): boolean => el.name === 'message' && el.getChild('body') !== undefined && !el.getChild('result', NS_MAM);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`message archive (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;

    /** Sends a chat message from one client to another and returns it as received. */
    const say = async (from: RawClient, to: RawClient, body: string, extra = ''): Promise<Element> => {
      from.send(`<message to='${to.jid.split('/')[0]}' type='chat'><body>${body}</body>${extra}</message>`);
      return to.expect((el) => isChat(el) && el.getChildText('body') === body);
    };

    before(async () => {
      server = await startTestServer({ dialect, properties: { ...ADMIN_PROPERTIES, 'xmpp.mam.max-page': '5' } });
      for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'iris']) await server.addUser(u, 'secret');
      await server.addUser('admin', ADMIN_USER[1]);
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'desk', presence: true });
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'phone', presence: true });
    });

    after(async () => {
      await alice?.close();
      await bob?.close();
      await server?.stop();
    });

    test('accounts advertise urn:xmpp:mam:2, its extended filters and stanza ids', async () => {
      const info = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      const vars = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
      for (const ns of ['urn:xmpp:mam:2', 'urn:xmpp:mam:2#extended', 'urn:xmpp:sid:0']) assert.ok(vars.includes(ns), `${ns} in ${vars.join(' ')}`);
    });

    test('a message is archived for both sides; the recipient sees its archive id live', async () => {
      // A forged id naming bob's archive is removed; one of another entity is kept.
      const received = await say(alice, bob, 'hello bob', "<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='forged'/><stanza-id xmlns='urn:xmpp:sid:0' by='room@chat.example' id='theirs'/>");
      const ids = received.getChildren('stanza-id', 'urn:xmpp:sid:0');
      assert.deepEqual(ids.map((s) => s.attrs.by).sort(), ['bob@localhost', 'room@chat.example']);
      const live = stanzaId(received, 'bob@localhost')!;
      assert.notEqual(live, 'forged');

      const bobs = await mamQuery(bob);
      assert.equal(bobs.iq.attrs.type, 'result', String(bobs.iq));
      assert.deepEqual(bobs.ids, [live], 'the archive id is the stanza-id');
      const result = bobs.results[0]!;
      assert.equal(result.attrs.from, 'bob@localhost');
      assert.equal(result.attrs.to, bob.jid);
      const forwarded = result.getChild('result', NS_MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!;
      const stamp = forwarded.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp!;
      assert.ok(Math.abs(Date.parse(stamp) - Date.now()) < 10_000, stamp);
      const inner = forwarded.getChild('message')!;
      assert.equal(inner.attrs.xmlns, 'jabber:client');
      assert.equal(inner.attrs.from, alice.jid);
      assert.equal(inner.getChildText('body'), 'hello bob');
      assert.equal(stanzaId(inner, 'bob@localhost'), live);
      assert.equal(page(bobs).complete, true);
      assert.equal(page(bobs).count, '1');

      const alices = await mamQuery(alice);
      assert.equal(alices.results.length, 1);
      assert.notEqual(alices.ids[0], live, 'each archive has its own id');
      const sent = alices.results[0]!.getChild('result', NS_MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!;
      assert.equal(sent.attrs.to, 'bob@localhost');
      assert.equal(stanzaId(sent, 'bob@localhost'), undefined, "the sender's copy is the message as sent");
    });

    test("the sender's archive id reaches its other resources in the sent carbon, never the recipient", async () => {
      const desk = await RawClient.login(server.c2sPort, 'hank', 'secret', { resource: 'desk', presence: true });
      const phone = await RawClient.login(server.c2sPort, 'hank', 'secret', { resource: 'phone', presence: true });
      const iris = await RawClient.login(server.c2sPort, 'iris', 'secret', { resource: 'r', presence: true });
      try {
        assert.equal((await phone.iq(`<iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)).attrs.type, 'result');
        // A planted id naming hank's archive goes; the server's own takes its place.
        desk.send(`<message to='iris@localhost' type='chat' id='c1'><body>carbon id</body><stanza-id xmlns='urn:xmpp:sid:0' by='hank@localhost' id='planted'/></message>`);
        const received = await iris.expect((el) => isChat(el) && el.getChildText('body') === 'carbon id');
        assert.equal(stanzaId(received, 'hank@localhost'), undefined, 'the sender\'s id stays with the sender');
        assert.ok(stanzaId(received, 'iris@localhost'));
        const carbon = await phone.expect((el) => el.name === 'message' && el.getChild('sent', 'urn:xmpp:carbons:2') !== undefined);
        const inner = carbon.getChild('sent')!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!;
        assert.equal(inner.getChildren('stanza-id', 'urn:xmpp:sid:0').length, 1, String(inner));
        const sentId = stanzaId(inner, 'hank@localhost');
        assert.ok(sentId && sentId !== 'planted', String(inner));
        const daves = await mamQuery(desk, { form: { with: 'iris@localhost' } });
        assert.deepEqual(daves.ids, [sentId], 'the carbon\'s id is the archive id of the sent message');
        const archived = daves.results[0]!.getChild('result', NS_MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!;
        assert.equal(archived.getChildren('stanza-id', 'urn:xmpp:sid:0').length, 0, 'the sent copy is archived as sent');
      } finally {
        await Promise.all([desk.close(), phone.close(), iris.close()]);
      }
    });

    test('only messages with a body of type chat or normal are archived, hints decide', async () => {
      const carol = await RawClient.login(server.c2sPort, 'carol', 'secret', { resource: 'r', presence: true });
      const to = 'carol@localhost';
      alice.send(`<message to='${to}' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
      alice.send(`<message to='${to}' type='headline'><body>news</body></message>`);
      alice.send(`<message to='${to}' type='groupchat'><body>group</body></message>`);
      alice.send(`<message to='${to}' type='error'><body>failed</body></message>`);
      alice.send(`<message to='${to}' type='chat'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>`);
      alice.send(`<message to='${to}' type='chat'><body>transient</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`);
      alice.send(`<message to='${to}' type='chat'><received xmlns='urn:xmpp:receipts' id='x'/><store xmlns='urn:xmpp:hints'/></message>`);
      alice.send(`<message to='${to}'><body>plain</body></message>`);
      await carol.expect((el) => el.getChildText('body') === 'plain');
      const secret = carol.inbox.find((el) => el.getChildText('body') === 'secret');
      assert.ok(secret && !secret.getChild('stanza-id', 'urn:xmpp:sid:0'), 'an unarchived message gets no archive id');
      const carols = await mamQuery(carol);
      assert.deepEqual(carols.bodies, [undefined, 'plain'], 'the stored receipt and the plain message');
      assert.equal(carols.results.length, 2);
      await carol.close();
    });

    describe('queries', () => {
      let dave: RawClient;
      let erin: RawClient;
      /** dave's archive ids in order, and the instants between the groups. */
      const ids: string[] = [];
      let middle = '';
      let late = '';

      before(async () => {
        dave = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'r', presence: true });
        erin = await RawClient.login(server.c2sPort, 'erin', 'secret', { resource: 'tab', presence: true });
        for (let i = 0; i < 4; i++) ids.push(stanzaId(await say(erin, dave, `e${i}`), 'dave@localhost')!);
        await sleep(30);
        middle = new Date().toISOString();
        await sleep(30);
        for (let i = 0; i < 4; i++) ids.push(stanzaId(await say(alice, dave, `a${i}`), 'dave@localhost')!);
        await sleep(30);
        late = new Date().toISOString();
        await sleep(30);
        ids.push(stanzaId(await say(erin, dave, 'e4'), 'dave@localhost')!);
      });

      after(async () => {
        await dave?.close();
        await erin?.close();
      });

      test('with a bare or a full JID, start, end, after-id, before-id and ids filter', async () => {
        const bodies = async (form: Record<string, string | string[]>): Promise<(string | undefined)[]> => {
          const answer = await mamQuery(dave, { form });
          assert.equal(answer.iq.attrs.type, 'result', String(answer.iq));
          return answer.bodies;
        };
        assert.deepEqual(await bodies({ with: 'alice@localhost' }), ['a0', 'a1', 'a2', 'a3']);
        assert.deepEqual(await bodies({ with: 'erin@localhost/tab' }), ['e0', 'e1', 'e2', 'e3', 'e4']);
        assert.deepEqual(await bodies({ with: 'erin@localhost/elsewhere' }), []);
        assert.deepEqual(await bodies({ start: middle, end: late }), ['a0', 'a1', 'a2', 'a3']);
        assert.deepEqual(await bodies({ start: late }), ['e4']);
        assert.deepEqual(await bodies({ end: middle, with: 'erin@localhost' }), ['e0', 'e1', 'e2', 'e3']);
        assert.deepEqual(await bodies({ 'after-id': ids[5]!, 'before-id': ids[8]! }), ['a2', 'a3']);
        assert.deepEqual(await bodies({ ids: [ids[7]!, ids[1]!, 'unknown'] }), ['e1', 'a3']);
      });

      test('paging forward with after: pages of max, counts and indexes, complete at the end', async () => {
        const first = await mamQuery(dave, { rsm: '<max>4</max>' });
        assert.deepEqual(first.ids, ids.slice(0, 4));
        assert.deepEqual(page(first), { first: ids[0], index: '0', last: ids[3], count: '9', complete: false });
        const second = await mamQuery(dave, { rsm: `<max>4</max><after>${ids[3]}</after>` });
        assert.deepEqual(second.ids, ids.slice(4, 8));
        assert.deepEqual(page(second), { first: ids[4], index: '4', last: ids[7], count: '9', complete: false });
        const third = await mamQuery(dave, { rsm: `<max>4</max><after>${ids[7]}</after>` });
        assert.deepEqual(third.ids, ids.slice(8));
        assert.deepEqual(page(third), { first: ids[8], index: '8', last: ids[8], count: '9', complete: true });
        const beyond = await mamQuery(dave, { rsm: `<max>4</max><after>${ids[8]}</after>` });
        assert.deepEqual(beyond.ids, []);
        assert.deepEqual(page(beyond), { first: undefined, index: undefined, last: undefined, count: '9', complete: true });
        // Counts follow the filter, not the page.
        const filtered = await mamQuery(dave, { form: { with: 'alice@localhost' }, rsm: '<max>2</max>' });
        assert.deepEqual(page(filtered), { first: ids[4], index: '0', last: ids[5], count: '4', complete: false });
      });

      test('paging backward from the end with an empty before, then before an id; flip-page reverses a page', async () => {
        const last = await mamQuery(dave, { rsm: '<max>4</max><before/>' });
        assert.deepEqual(last.ids, ids.slice(5), 'the last page, oldest first');
        assert.deepEqual(page(last), { first: ids[5], index: '5', last: ids[8], count: '9', complete: false });
        const earlier = await mamQuery(dave, { rsm: `<max>4</max><before>${ids[5]}</before>` });
        assert.deepEqual(earlier.ids, ids.slice(1, 5));
        assert.equal(page(earlier).index, '1');
        const start = await mamQuery(dave, { rsm: `<max>4</max><before>${ids[1]}</before>` });
        assert.deepEqual(start.ids, [ids[0]]);
        assert.equal(page(start).complete, true, 'complete: the start was reached');
        const flipped = await mamQuery(dave, { rsm: '<max>3</max><before/>', flip: true });
        assert.deepEqual(flipped.ids, [ids[8], ids[7], ids[6]]);
        assert.equal(page(flipped).first, ids[8]);
        assert.equal(page(flipped).last, ids[6]);
      });

      test('max is bounded by xmpp.mam.max-page, and max 0 only counts', async () => {
        const big = await mamQuery(dave, { rsm: '<max>1000</max>' });
        assert.deepEqual(big.ids, ids.slice(0, 5));
        assert.equal(page(big).complete, false);
        const none = await mamQuery(dave);
        assert.equal(none.ids.length, 5, 'no max: the bound');
        const count = await mamQuery(dave, { rsm: '<max>0</max>' });
        assert.deepEqual(count.ids, []);
        assert.equal(page(count).count, '9');
      });

      test('errors: unknown ids, malformed forms, dates and RSM, and another account\'s archive', async () => {
        const condition = async (q: Parameters<typeof mamQuery>[1], expected: string): Promise<void> => {
          const answer = await mamQuery(dave, q);
          assert.equal(answer.iq.attrs.type, 'error', String(answer.iq));
          assert.equal(errorCondition(answer.iq), expected, String(answer.iq));
          assert.deepEqual(answer.results, []);
        };
        await condition({ rsm: '<after>no-such-id</after>' }, 'item-not-found');
        await condition({ rsm: '<before>no-such-id</before>' }, 'item-not-found');
        await condition({ form: { 'after-id': 'no-such-id' } }, 'item-not-found');
        await condition({ form: { 'before-id': 'no-such-id' } }, 'item-not-found');
        await condition({ rsm: '<max>2</max><index>4</index>', to: 'dave@localhost' }, 'feature-not-implemented');
        await condition({ rsm: `<after>${ids[0]}</after><before>${ids[2]}</before>` }, 'bad-request');
        await condition({ form: { start: 'yesterday' } }, 'bad-request');
        await condition({ form: { end: '2026-13-45T99:00:00Z' } }, 'bad-request');
        await condition({ form: { colour: 'blue' } }, 'bad-request');
        await condition({ rsm: '<max>many</max>' }, 'bad-request');
        await condition({ rsm: '<max>-1</max>' }, 'bad-request');
        await condition({ form: { with: '@@' } }, 'jid-malformed');
        await condition({ to: 'erin@localhost' }, 'forbidden');
        const wrongType = await dave.iq(`<iq type='set'><query xmlns='${NS_MAM}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:example</value></field></x></query></iq>`);
        assert.equal(errorCondition(wrongType), 'bad-request');
        const prefsOfOther = await dave.iq(`<iq type='get' to='erin@localhost'><prefs xmlns='${NS_MAM}'/></iq>`);
        assert.equal(errorCondition(prefsOfOther), 'forbidden');
        // The stream goes on.
        assert.equal((await mamQuery(dave, { rsm: '<max>1</max>' })).ids.length, 1);
      });

      test('the form of the query lists the fields', async () => {
        const form = await dave.iq(`<iq type='get'><query xmlns='${NS_MAM}'/></iq>`);
        const fields = form.getChild('query')!.getChild('x', 'jabber:x:data')!.getChildren('field').map((f) => f.attrs.var);
        assert.deepEqual(fields, ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);
      });
    });

    test('preferences: default, always and never lists, roster; stored and applied', async () => {
      const frank = await RawClient.login(server.c2sPort, 'frank', 'secret', { resource: 'r', presence: true });
      const initial = await frank.iq(`<iq type='get'><prefs xmlns='${NS_MAM}'/></iq>`);
      assert.equal(initial.getChild('prefs')!.attrs.default, 'always');

      const set = await frank.iq(`<iq type='set'><prefs xmlns='${NS_MAM}' default='never'><always><jid>alice@localhost</jid></always><never><jid>bob@localhost/phone</jid></never></prefs></iq>`);
      assert.equal(set.attrs.type, 'result', String(set));
      const got = (await frank.iq(`<iq type='get'><prefs xmlns='${NS_MAM}'/></iq>`)).getChild('prefs')!;
      assert.equal(got.attrs.default, 'never');
      assert.deepEqual(got.getChild('always')!.getChildren('jid').map((j) => j.getText()), ['alice@localhost']);
      assert.deepEqual(got.getChild('never')!.getChildren('jid').map((j) => j.getText()), ['bob@localhost'], 'kept as the bare JID');

      const fromAlice = await say(alice, frank, 'always archived');
      const fromBob = await say(bob, frank, 'never archived');
      assert.ok(stanzaId(fromAlice, 'frank@localhost'));
      assert.equal(stanzaId(fromBob, 'frank@localhost'), undefined);
      assert.deepEqual((await mamQuery(frank)).bodies, ['always archived']);
      // bob's own archive follows bob's preferences (the default: always).
      assert.ok((await mamQuery(bob)).bodies.includes('never archived'));

      // roster: only contacts in the roster.
      await frank.iq(`<iq type='set'><prefs xmlns='${NS_MAM}' default='roster'/></iq>`);
      await frank.iq(`<iq type='set'><query xmlns='jabber:iq:roster'><item jid='bob@localhost'/></query></iq>`);
      await say(bob, frank, 'from a contact');
      // A new set replaces the lists: alice is no longer always archived, and not in the roster.
      await say(alice, frank, 'from a stranger');
      const bodies = (await mamQuery(frank)).bodies;
      assert.deepEqual(bodies, ['always archived', 'from a contact']);

      const bad = await frank.iq(`<iq type='set'><prefs xmlns='${NS_MAM}' default='sometimes'/></iq>`);
      assert.equal(errorCondition(bad), 'bad-request');
      const badJid = await frank.iq(`<iq type='set'><prefs xmlns='${NS_MAM}' default='always'><always><jid>@@</jid></always></prefs></iq>`);
      assert.equal(errorCondition(badJid), 'jid-malformed');
      await frank.close();
    });

    test('a message stored offline is archived and delivered later with the same stanza-id', async () => {
      alice.send(`<message to='gina@localhost' type='chat' id='off1'><body>while you were away</body></message>`);
      const storage = await server.storage();
      await waitFor(async () => (await storage.offline.count('gina')) === 1, 10_000, 'the offline message');
      const gina = await RawClient.login(server.c2sPort, 'gina', 'secret', { resource: 'r', presence: true });
      const delivered = await gina.expect(isChat);
      assert.equal(delivered.attrs.id, 'off1');
      const id = stanzaId(delivered, 'gina@localhost');
      assert.ok(id, String(delivered));
      const archived = await mamQuery(gina);
      assert.deepEqual(archived.ids, [id]);
      await gina.close();
    });

    test('an account deleted takes its archive and preferences along', async () => {
      const storage = await server.storage();
      await storage.archive.setPrefs('carol', { default: 'always', always: [], never: [] });
      assert.ok((await storage.archive.count('carol', {}, 100))! > 0);
      const res = await admin(server.adminPort, 'DELETE', '/api/users/carol');
      assert.equal(res.status, 204, JSON.stringify(res.body));
      // The messages go first, the preferences in a statement after them: wait for both.
      await waitFor(async () => (await storage.archive.count('carol', {}, 100)) === 0 && (await storage.archive.prefs('carol')) === null, 20_000, "carol's archive and preferences to go");
      assert.ok((await storage.archive.count('alice', {}, 100))! > 0, 'other archives stay');
    });
  });
}

describe('message archive retention', () => {
  let server: TestServer;
  after(() => server?.stop());

  test('messages older than xmpp.mam.retention-days are purged every xmpp.mam.purge-interval', async () => {
    server = await startTestServer({ properties: { 'xmpp.mam.retention-days': '2', 'xmpp.mam.purge-interval': '1' } });
    for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
    const storage = await server.storage();
    const day = 86_400_000;
    // Rows as the archive would have written them three days and one day ago.
    await storage.archive.append([3, 1].map((days) => ({
      owner: 'bob', id: `old-${days}`, with: 'alice@localhost', withResource: 'r', outgoing: false,
      at: new Date(Date.now() - days * day), stanza: `<message xmlns="jabber:client" type="chat"><body>${days} days ago</body></message>`,
    })));
    const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'r', presence: true });
    const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'r', presence: true });
    alice.send(`<message to='bob@localhost' type='chat'><body>today</body></message>`);
    await bob.expect(isChat);
    await waitFor(async () => (await storage.archive.position('bob', 'old-3')) === null, 10_000, 'the three-day-old message to be purged');
    assert.deepEqual((await mamQuery(bob)).bodies, ['1 days ago', 'today']);
    await alice.close();
    await bob.close();
  });
});
