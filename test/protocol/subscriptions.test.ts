// Presence subscriptions (RFC 6121 section 3 and Appendix A) between local accounts,
// against a real server process on both databases: the full handshake, pre-approval,
// requests kept for the next login, cancellation both ways, roster removal, and the
// stanzas that change nothing and so must not be delivered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS_ROSTER = 'jabber:iq:roster';
const query = (el: Element): Element | undefined => el.getChild('query', NS_ROSTER);
const pushFor = (jid: string) => (el: Element): boolean =>
  el.name === 'iq' && el.attrs.type === 'set' && query(el)?.getChild('item')?.attrs.jid === jid;
const presence = (type: string | undefined, from?: string) => (el: Element): boolean =>
  el.name === 'presence' && el.attrs.type === type && (from === undefined || el.attrs.from === from);
const anyPresenceFrom = (bare: string) => (el: Element): boolean =>
  el.name === 'presence' && (el.attrs.from === bare || el.attrs.from?.startsWith(`${bare}/`) === true);

/** The item of the next push about `jid`. */
async function pushed(c: RawClient, jid: string): Promise<Element> {
  return query(await c.expect(pushFor(jid)))!.getChild('item')!;
}

async function rosterItems(c: RawClient): Promise<Element[]> {
  const result = await c.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
  return query(result)!.getChildren('item');
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`presence subscriptions (${dialect})`, () => {
    let server: TestServer;
    const clients: RawClient[] = [];
    /** Logged in, roster requested (interested) and initial presence sent (available). */
    const online = async (user: string, resource = 'r1'): Promise<RawClient> => {
      const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
      clients.push(c);
      await rosterItems(c);
      c.send('<presence/>');
      await c.expect(presence(undefined, c.jid));
      return c;
    };
    const stored = async (user: string, contact: string) => (await server.storage()).roster.get(user, contact);

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'ivy', 'jack']) await server.addUser(u, 'secret');
    });

    after(async () => {
      for (const c of clients) await c.close();
      await server?.stop();
    });

    test('the full handshake: alice subscribes, bob approves, then the reverse; both see presence', async () => {
      const alice = await online('alice');
      const bob = await online('bob');

      alice.send(`<presence to='bob@localhost' type='subscribe'><status>It is alice</status></presence>`);
      const asking = await pushed(alice, 'bob@localhost');
      assert.equal(asking.attrs.subscription, 'none');
      assert.equal(asking.attrs.ask, 'subscribe');
      const request = await bob.expect(presence('subscribe'));
      assert.equal(request.attrs.from, 'alice@localhost', 'stamped with the bare JID');
      assert.equal(request.attrs.to, 'bob@localhost');
      assert.equal(request.getChildText('status'), 'It is alice', 'the request keeps its content');
      assert.ok(!(await rosterItems(bob)).some((i) => i.attrs.jid === 'alice@localhost'), 'a request alone does not enter the roster');

      bob.send(`<presence to='alice@localhost' type='subscribed'/>`);
      const approving = await pushed(bob, 'alice@localhost');
      assert.equal(approving.attrs.subscription, 'from');
      const approval = await alice.expect(presence('subscribed'));
      assert.equal(approval.attrs.from, 'bob@localhost');
      const granted = await pushed(alice, 'bob@localhost');
      assert.equal(granted.attrs.subscription, 'to');
      assert.equal(granted.attrs.ask, undefined);
      const bobsPresence = await alice.expect(presence(undefined, bob.jid));
      assert.equal(bobsPresence.attrs.to, 'alice@localhost');

      bob.send(`<presence to='alice@localhost' type='subscribe'/>`);
      assert.equal((await pushed(bob, 'alice@localhost')).attrs.ask, 'subscribe');
      await alice.expect(presence('subscribe', 'bob@localhost'));
      alice.send(`<presence to='bob@localhost' type='subscribed'/>`);
      assert.equal((await pushed(alice, 'bob@localhost')).attrs.subscription, 'both');
      await bob.expect(presence('subscribed', 'alice@localhost'));
      assert.equal((await pushed(bob, 'alice@localhost')).attrs.subscription, 'both');
      await bob.expect(presence(undefined, alice.jid));

      // Mutual now: presence updates flow both ways.
      alice.send(`<presence><show>away</show></presence>`);
      assert.equal((await bob.expect(presence(undefined, alice.jid))).getChildText('show'), 'away');
      bob.send(`<presence><show>dnd</show></presence>`);
      assert.equal((await alice.expect(presence(undefined, bob.jid))).getChildText('show'), 'dnd');
      assert.equal((await stored('alice', 'bob@localhost'))?.subscription, 'both');
      assert.equal((await stored('bob', 'alice@localhost'))?.subscription, 'both');
    });

    test('stanzas that change nothing (Appendix A "no state change") are not delivered', async () => {
      const [alice, bob] = [clients[0]!, clients[1]!];
      // Both already subscribed: a repeated approval, and a repeated request, go nowhere ...
      bob.send(`<presence to='alice@localhost' type='subscribed'/>`);
      alice.send(`<presence to='bob@localhost' type='subscribe'/>`);
      // ... except that bob's server confirms the subscription alice already has (A.3.1),
      // which alice's server swallows because it changes nothing either (A.3.3).
      assert.ok(await alice.nothing(anyPresenceFrom('bob@localhost'), 700), 'alice hears nothing');
      assert.ok(await bob.nothing((el) => el.name === 'presence' && el.attrs.type !== undefined, 700), 'bob hears nothing');
      assert.ok(await alice.nothing(pushFor('bob@localhost'), 100) && await bob.nothing(pushFor('alice@localhost'), 100), 'no roster push');
      // An unsubscribed for a subscription that does not exist goes nowhere either.
      const carol = await online('carol');
      carol.send(`<presence to='alice@localhost' type='unsubscribed'/>`);
      carol.send(`<presence to='alice@localhost' type='unsubscribe'/>`);
      assert.ok(await alice.nothing(anyPresenceFrom('carol@localhost'), 700));
      assert.equal(await stored('carol', 'alice@localhost'), null, 'and leaves no roster item behind');
    });

    test('a request to an offline account waits, comes at every login until answered, and a denial cleans up', async () => {
      const dave = await online('dave');
      dave.send(`<presence to='erin@localhost' type='subscribe'/>`);
      await pushed(dave, 'erin@localhost');
      // Erin is offline: the request is kept with its stanza.
      let waiting = null;
      for (let i = 0; i < 50 && !waiting?.askIn; i++) waiting = await stored('erin', 'dave@localhost');
      assert.equal(waiting?.askIn, true);

      for (const resource of ['first', 'second']) {
        const erin = await RawClient.login(server.c2sPort, 'erin', 'secret', { resource });
        clients.push(erin);
        assert.equal((await rosterItems(erin)).length, 0, 'the request is not a roster item');
        erin.send('<presence/>');
        const request = await erin.expect(presence('subscribe'));
        assert.equal(request.attrs.from, 'dave@localhost');
        if (resource === 'first') await erin.close();
        else {
          erin.send(`<presence to='dave@localhost' type='unsubscribed'/>`);
          const denied = await dave.expect(presence('unsubscribed', 'erin@localhost'));
          assert.equal(denied.attrs.to, 'dave@localhost');
          const after = await pushed(dave, 'erin@localhost');
          assert.equal(after.attrs.subscription, 'none');
          assert.equal(after.attrs.ask, undefined);
          assert.ok(await erin.nothing(pushFor('dave@localhost'), 300), 'erin never had dave in her roster');
          await erin.close();
        }
      }
      assert.equal(await stored('erin', 'dave@localhost'), null, 'the answered request is gone');
      const again = await RawClient.login(server.c2sPort, 'erin', 'secret', { resource: 'third', presence: true });
      clients.push(again);
      assert.ok(await again.nothing(presence('subscribe'), 500), 'and is not delivered again');
    });

    test('pre-approval: approving before the request makes the request succeed at once', async () => {
      const frank = await online('frank');
      const gina = await online('gina');
      frank.send(`<presence to='gina@localhost' type='subscribed'/>`);
      const preapproved = await pushed(frank, 'gina@localhost');
      assert.equal(preapproved.attrs.approved, 'true');
      assert.equal(preapproved.attrs.subscription, 'none');
      assert.ok(await gina.nothing(presence('subscribed'), 500), 'a pre-approval is not routed');

      gina.send(`<presence to='frank@localhost' type='subscribe'/>`);
      assert.equal((await pushed(gina, 'frank@localhost')).attrs.ask, 'subscribe');
      await gina.expect(presence('subscribed', 'frank@localhost'));
      assert.equal((await pushed(gina, 'frank@localhost')).attrs.subscription, 'to');
      await gina.expect(presence(undefined, frank.jid));
      const used = await pushed(frank, 'gina@localhost');
      assert.equal(used.attrs.subscription, 'from');
      assert.equal(used.attrs.approved, undefined);
      assert.ok(await frank.nothing(presence('subscribe'), 500), 'frank is not asked');
    });

    test('unsubscribed withdraws a pre-approval without routing anything', async () => {
      const hank = await online('hank');
      const ivy = await online('ivy');
      hank.send(`<presence to='ivy@localhost' type='subscribed'/>`);
      assert.equal((await pushed(hank, 'ivy@localhost')).attrs.approved, 'true');
      hank.send(`<presence to='ivy@localhost' type='unsubscribed'/>`);
      assert.equal((await pushed(hank, 'ivy@localhost')).attrs.approved, undefined);
      assert.ok(await ivy.nothing((el) => el.name === 'presence' && el.attrs.type !== undefined, 500));
      ivy.send(`<presence to='hank@localhost' type='subscribe'/>`);
      await hank.expect(presence('subscribe', 'ivy@localhost'));
    });

    test('unsubscribe and unsubscribed cancel each direction, with unavailable presence', async () => {
      const [alice, bob] = [clients[0]!, clients[1]!];
      // alice stops receiving bob's presence.
      alice.send(`<presence to='bob@localhost' type='unsubscribe'/>`);
      assert.equal((await pushed(alice, 'bob@localhost')).attrs.subscription, 'from');
      await bob.expect(presence('unsubscribe', 'alice@localhost'));
      assert.equal((await pushed(bob, 'alice@localhost')).attrs.subscription, 'to');
      await alice.expect(presence('unavailable', bob.jid));
      // alice cancels bob's subscription to her: bob first learns she is gone.
      alice.send(`<presence to='bob@localhost' type='unsubscribed'/>`);
      await bob.expect(presence('unavailable', alice.jid));
      await bob.expect(presence('unsubscribed', 'alice@localhost'));
      assert.equal((await pushed(bob, 'alice@localhost')).attrs.subscription, 'none');
      assert.equal((await pushed(alice, 'bob@localhost')).attrs.subscription, 'none');
      alice.send(`<presence><show>chat</show></presence>`);
      assert.ok(await bob.nothing(presence(undefined, alice.jid), 500), 'bob no longer gets her presence');
    });

    test('removing a contact cancels both subscriptions', async () => {
      const [alice, bob] = [clients[0]!, clients[1]!];
      // Mutual again, quickly: each approves ahead and then asks.
      alice.send(`<presence to='bob@localhost' type='subscribed'/>`);
      bob.send(`<presence to='alice@localhost' type='subscribed'/>`);
      alice.send(`<presence to='bob@localhost' type='subscribe'/>`);
      bob.send(`<presence to='alice@localhost' type='subscribe'/>`);
      for (let i = 0; i < 100; i++) {
        const [a, b] = [await stored('alice', 'bob@localhost'), await stored('bob', 'alice@localhost')];
        if (a?.subscription === 'both' && b?.subscription === 'both') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await stored('alice', 'bob@localhost'))?.subscription, 'both');
      const removed = await alice.iq(`<iq type='set'><query xmlns='${NS_ROSTER}'><item jid='bob@localhost' subscription='remove'/></query></iq>`);
      assert.equal(removed.attrs.type, 'result', String(removed));
      await bob.expect(presence('unsubscribe', 'alice@localhost'));
      await bob.expect(presence('unsubscribed', 'alice@localhost'));
      await bob.expect(presence('unavailable', alice.jid));
      let item;
      do item = await pushed(bob, 'alice@localhost'); while (item.attrs.subscription !== 'none');
      assert.equal((await stored('bob', 'alice@localhost'))?.subscription, 'none');
      assert.equal(await stored('alice', 'bob@localhost'), null);
    });

    test('a request to an account that does not exist is answered with unsubscribed', async () => {
      const jack = await online('jack');
      jack.send(`<presence to='nobody@localhost' type='subscribe'/>`);
      assert.equal((await pushed(jack, 'nobody@localhost')).attrs.ask, 'subscribe');
      await jack.expect(presence('unsubscribed', 'nobody@localhost'));
      assert.equal((await pushed(jack, 'nobody@localhost')).attrs.ask, undefined);
    });

    test('a request to another domain is recorded as pending; no error comes back', async () => {
      const jack = clients.find((c) => c.jid.startsWith('jack@'))!;
      jack.send(`<presence to='romeo@example.net' type='subscribe'/>`);
      assert.equal((await pushed(jack, 'romeo@example.net')).attrs.ask, 'subscribe');
      assert.ok(await jack.nothing((el) => el.attrs.type === 'error', 500));
    });

    test('nothing above made the server log an error', () => {
      assert.doesNotMatch(server.logs(), / ERROR /);
    });
  });
}
