// Presence (RFC 6121 section 4) against a real server process, on both databases: initial
// presence and probes, updates, several resources, unavailable presence (sent, and for a
// dropped connection), directed presence, priorities, and probes answered for the account.
// Subscriptions are written to storage up front; subscriptions.test.ts covers making them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Subscription } from '../../server/storage/types.ts';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const presence = (type: string | undefined, from?: string) => (el: Element): boolean =>
  el.name === 'presence' && el.attrs.type === type && (from === undefined || el.attrs.from === from);
const fromAccount = (bare: string) => (el: Element): boolean =>
  el.name === 'presence' && (el.attrs.from === bare || el.attrs.from?.startsWith(`${bare}/`) === true);
const isMessage = (el: Element): boolean => el.name === 'message';

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`presence (${dialect})`, () => {
    let server: TestServer;
    const clients: RawClient[] = [];
    const login = async (user: string, resource: string, initial?: string): Promise<RawClient> => {
      const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
      clients.push(c);
      if (initial !== undefined) {
        c.send(initial);
        await c.expect(presence(undefined, c.jid));
      }
      return c;
    };
    /** Writes the subscription state of `user` towards `contact` straight into storage. */
    const subscribe = async (user: string, contact: string, subscription: Subscription): Promise<void> => {
      await (await server.storage()).roster.put(user, {
        jid: `${contact}@localhost`, name: '', subscription, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [],
      });
    };
    const mutual = async (a: string, b: string): Promise<void> => {
      await subscribe(a, b, 'both');
      await subscribe(b, a, 'both');
    };

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'ivan']) await server.addUser(u, 'secret');
      await mutual('alice', 'bob');
      await mutual('dave', 'erin');
      await mutual('gina', 'hank');
      // frank sees hank, hank does not see frank.
      await subscribe('frank', 'hank', 'to');
      await subscribe('hank', 'frank', 'from');
      // carol's roster wrongly says she sees hank; his answer to her probe will correct it.
      await subscribe('carol', 'hank', 'to');
      // ivan's roster wrongly says he sees gina, dave and an account that does not exist.
      for (const contact of ['gina', 'dave', 'nobody']) await subscribe('ivan', contact, 'to');
    });

    after(async () => {
      for (const c of clients) await c.close();
      await server?.stop();
    });

    test('initial presence reaches the contacts and the account itself; probes bring the contacts\' presence', async () => {
      const alice = await login('alice', 'home', `<presence><status>at home</status></presence>`);
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'desk' });
      clients.push(bob);
      bob.send(`<presence><show>away</show><priority>5</priority></presence>`);
      const own = await bob.expect(presence(undefined, bob.jid));
      assert.equal(own.getChildText('show'), 'away');
      const atAlice = await alice.expect(presence(undefined, bob.jid));
      assert.equal(atAlice.getChildText('show'), 'away');
      assert.equal(atAlice.attrs.to, 'alice@localhost');
      const probed = await bob.expect(presence(undefined, alice.jid));
      assert.equal(probed.getChildText('status'), 'at home', 'the answer to the probe is her last presence');
      const carol = await login('carol', 'side', '<presence/>');
      assert.ok(await carol.nothing(fromAccount('bob@localhost'), 300), 'no presence for someone not subscribed');
    });

    test('presence updates are broadcast to subscribers only', async () => {
      const [alice, bob, carol] = [clients[0]!, clients[1]!, clients[2]!];
      bob.send(`<presence><show>dnd</show><status>busy</status></presence>`);
      // Alice may still hold a second copy of bob's earlier presence: her login's probe can be
      // answered after bob's own broadcast reached her. The update is the one with the status.
      const update = await alice.expect((el) => presence(undefined, bob.jid)(el) && el.getChildText('status') === 'busy');
      assert.equal(update.getChildText('show'), 'dnd');
      assert.ok(await carol.nothing(fromAccount('bob@localhost'), 300));
    });

    test('a new resource learns of the others, and they of it', async () => {
      const [alice, bob] = [clients[0]!, clients[1]!];
      const laptop = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'laptop' });
      clients.push(laptop);
      laptop.send('<presence/>');
      await laptop.expect(presence(undefined, laptop.jid));
      const sibling = await laptop.expect(presence(undefined, bob.jid));
      assert.equal(sibling.getChildText('status'), 'busy');
      await bob.expect(presence(undefined, laptop.jid));
      await alice.expect(presence(undefined, laptop.jid));
      await laptop.expect(presence(undefined, alice.jid));
    });

    test('unavailable presence goes to contacts and the other resources, with its status', async () => {
      const [alice, bob] = [clients[0]!, clients[1]!];
      const laptop = clients[3]!;
      laptop.send(`<presence type='unavailable'><status>gone fishing</status></presence>`);
      const atAlice = await alice.expect(presence('unavailable', laptop.jid));
      assert.equal(atAlice.getChildText('status'), 'gone fishing');
      await bob.expect(presence('unavailable', laptop.jid));
      // Unavailable now: the laptop no longer gets presence broadcast to the account.
      alice.send(`<presence><show>chat</show></presence>`);
      await bob.expect(presence(undefined, alice.jid));
      assert.ok(await laptop.nothing(presence(undefined, alice.jid), 300));
      await laptop.close();
      assert.ok(await alice.nothing(presence('unavailable', laptop.jid), 300), 'no second unavailable at logout');
    });

    test('a dropped connection is announced as unavailable', async () => {
      const [alice, bob] = [clients[0]!, clients[1]!];
      bob.destroy();
      const gone = await alice.expect(presence('unavailable', bob.jid));
      assert.equal(gone.attrs.to, 'alice@localhost');
    });

    test('directed presence reaches a non-contact, who gets unavailable when the session ends', async () => {
      const frank = await login('frank', 'f1', '<presence/>');
      const carol = clients[2]!;
      frank.send(`<presence to='${carol.jid}'><status>psst</status></presence>`);
      assert.equal((await carol.expect(presence(undefined, frank.jid))).getChildText('status'), 'psst');
      frank.send(`<presence to='carol@localhost'/>`);
      await carol.expect(presence(undefined, frank.jid));
      await frank.close();
      const first = await carol.expect(presence('unavailable', frank.jid));
      const second = await carol.expect(presence('unavailable', frank.jid));
      assert.deepEqual([first.attrs.to, second.attrs.to].sort(), [carol.jid, 'carol@localhost'].sort());
      assert.ok(await carol.nothing(fromAccount('frank@localhost'), 300), 'once per address');
    });

    test('directed unavailable presence ends the tracking; nothing more at logout', async () => {
      const frank = await login('frank', 'f2');
      const carol = clients[2]!;
      frank.send(`<presence to='carol@localhost'/>`);
      await carol.expect(presence(undefined, frank.jid));
      frank.send(`<presence to='carol@localhost' type='unavailable'/>`);
      await carol.expect(presence('unavailable', frank.jid));
      frank.destroy();
      assert.ok(await carol.nothing(fromAccount('frank@localhost'), 500));
    });

    test('probes: a subscriber gets the presence, or unavailable when offline; anyone else gets unsubscribed', async () => {
      const hank = await login('hank', 'h1', `<presence><status>here</status></presence>`);
      const frank = await login('frank', 'f3');
      frank.send(`<presence type='probe' to='hank@localhost'/>`);
      assert.equal((await frank.expect(presence(undefined, hank.jid))).getChildText('status'), 'here');
      // carol is not subscribed, whatever her roster says: the answer unsubscribed fixes her roster.
      const carol = clients[2]!;
      carol.send(`<presence type='probe' to='hank@localhost'/>`);
      await carol.expect(presence('unsubscribed', 'hank@localhost'));
      assert.equal((await (await server.storage()).roster.get('carol', 'hank@localhost'))?.subscription, 'none');
      assert.ok(await carol.nothing(presence(undefined, hank.jid), 300), 'and she learns nothing of his presence');
      hank.send(`<presence type='unavailable'/>`);
      frank.send(`<presence type='probe' to='${hank.jid}'/>`);
      const offline = await frank.expect(presence('unavailable', 'hank@localhost'));
      assert.equal(offline.attrs.to, frank.jid);
      // hank is not subscribed to frank: frank's initial presence does not reach him, but
      // frank's probe for hank is answered.
      assert.ok(await hank.nothing(fromAccount('frank@localhost'), 300));
    });

    test('probes to an offline account: a subscriber gets unavailable, anyone else (and a probe to no account) unsubscribed', async () => {
      // gina and hank are mutual contacts; ivan's roster claims subscriptions nobody granted.
      // gina and dave are offline, nobody does not exist.
      const hank = await login('hank', 'h3');
      // ivan never sent initial presence, so his login probed nobody.
      const ivan = await login('ivan', 'i1');
      // Subscription answers go to the resources that asked for the roster (RFC 6121 3.3.3).
      assert.equal((await ivan.iq(`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`)).attrs.type, 'result');
      hank.send(`<presence type='probe' to='gina@localhost'/>`);
      const offline = await hank.expect(fromAccount('gina@localhost'));
      assert.equal(offline.attrs.type, 'unavailable', String(offline));
      assert.equal(offline.attrs.from, 'gina@localhost');
      ivan.send(`<presence type='probe' to='gina@localhost'/>`);
      const refused = await ivan.expect(fromAccount('gina@localhost'));
      assert.equal(refused.attrs.type, 'unsubscribed', 'never unavailable to a non-subscriber');
      ivan.send(`<presence type='probe' to='nobody@localhost'/>`);
      const missing = await ivan.expect(fromAccount('nobody@localhost'));
      assert.equal(missing.attrs.type, 'unsubscribed', 'the same answer as for an existing account');
      ivan.send(`<presence type='probe' to='dave@localhost/somewhere'/>`);
      const full = await ivan.expect(fromAccount('dave@localhost'));
      assert.equal(full.attrs.type, 'unsubscribed', 'a probe to a full JID is answered for the account');
      assert.equal(full.attrs.from, 'dave@localhost');
      const roster = (await server.storage()).roster;
      for (const contact of ['gina', 'dave', 'nobody']) {
        assert.equal((await roster.get('ivan', `${contact}@localhost`))?.subscription, 'none', `ivan's item for ${contact} is corrected`);
      }
      assert.ok(await ivan.nothing((el) => el.name === 'presence' && el.attrs.type === 'unavailable', 300), 'no unavailable to a non-subscriber');
    });

    test('a negative priority resource gets presence but no messages to the bare JID', async () => {
      const erin = await login('erin', 'e1', '<presence/>');
      const high = await login('dave', 'high', '<presence><priority>1</priority></presence>');
      const low = await login('dave', 'low', '<presence><priority>-1</priority></presence>');
      await high.expect(presence(undefined, low.jid));
      erin.send(`<message to='dave@localhost' type='chat' id='m1'><body>hi</body></message>`);
      assert.equal((await high.expect(isMessage)).attrs.id, 'm1');
      assert.ok(await low.nothing(isMessage, 300));
      erin.send(`<presence><show>xa</show></presence>`);
      await low.expect(presence(undefined, erin.jid));
      await high.expect(presence(undefined, erin.jid));

      // With only the negative priority resource available, a message waits offline.
      high.send(`<presence type='unavailable'/>`);
      await low.expect(presence('unavailable', high.jid));
      erin.send(`<message to='dave@localhost' type='chat' id='m2'><body>later</body></message>`);
      assert.ok(await low.nothing(isMessage, 500));
      assert.equal(await (await server.storage()).offline.count('dave'), 1);
    });

    test('presence errors are ignored', async () => {
      const gina = await login('gina', 'g1', '<presence/>');
      const hank = await login('hank', 'h2', '<presence/>');
      await gina.expect(presence(undefined, hank.jid));
      hank.send(`<presence type='error' to='gina@localhost'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`);
      hank.send(`<presence type='error'/>`);
      assert.ok(await gina.nothing(presence('error'), 500));
      assert.ok(await hank.nothing(presence('error'), 100));
    });

    test('nothing above made the server log an error', () => {
      assert.doesNotMatch(server.logs(), / ERROR /);
    });
  });
}
