// XEP-0012 against a real server process, on both databases: the server's uptime, and an
// account's last activity as far as the asker may see its presence.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../server/storage/types.ts';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS = 'jabber:iq:last';
const seconds = (el: Element): number => Number(el.getChild('query', NS)!.attrs.seconds);
const granted = (jid: string): RosterItem =>
  ({ jid, name: null, subscription: 'from', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] });

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`last activity (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let carol: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
      // bob and dave let alice see their presence; carol may see nobody's.
      const storage = await server.storage();
      await storage.roster.put('bob', granted('alice@localhost'));
      await storage.roster.put('dave', granted('alice@localhost'));
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
      carol = await RawClient.login(server.c2sPort, 'carol', 'secret');
    });

    after(async () => {
      await alice?.close();
      await carol?.close();
      await server?.stop();
    });

    test('the server answers with its uptime in whole seconds', async () => {
      const first = await alice.iq(`<iq type='get' to='localhost'><query xmlns='${NS}'/></iq>`);
      assert.equal(first.attrs.type, 'result');
      assert.ok(Number.isInteger(seconds(first)) && seconds(first) >= 0);
      await new Promise((r) => setTimeout(r, 1100));
      const second = await alice.iq(`<iq type='get' to='localhost'><query xmlns='${NS}'/></iq>`);
      assert.ok(seconds(second) >= seconds(first) + 1);
    });

    test('an account with an available resource is active now: 0 seconds', async () => {
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { presence: true });
      await bob.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); // the presence is processed
      const answer = await alice.iq(`<iq type='get' to='bob@localhost'><query xmlns='${NS}'/></iq>`);
      assert.equal(answer.attrs.type, 'result');
      assert.equal(seconds(answer), 0);
      bob.send(`<presence type='unavailable'><status>Gone fishing</status></presence>`);
      await bob.close();
    });

    test('after the last session ends: seconds since then, and the last status', async () => {
      await new Promise((r) => setTimeout(r, 1100));
      const answer = await alice.iq(`<iq type='get' to='bob@localhost'><query xmlns='${NS}'/></iq>`);
      assert.equal(answer.attrs.type, 'result');
      assert.ok(seconds(answer) >= 1 && seconds(answer) < 30, `seconds=${seconds(answer)}`);
      assert.equal(answer.getChild('query')!.getText(), 'Gone fishing');
    });

    test('someone without a presence subscription is forbidden', async () => {
      const answer = await carol.iq(`<iq type='get' to='bob@localhost'><query xmlns='${NS}'/></iq>`);
      assert.equal(errorCondition(answer), 'forbidden');
      const missing = await carol.iq(`<iq type='get' to='nobody@localhost'><query xmlns='${NS}'/></iq>`);
      assert.equal(errorCondition(missing), 'forbidden', 'the same for an account that does not exist');
    });

    test('an account that never logged out has no last activity: item-not-found', async () => {
      const answer = await alice.iq(`<iq type='get' to='dave@localhost'><query xmlns='${NS}'/></iq>`);
      assert.equal(errorCondition(answer), 'item-not-found');
    });

    test('a user may ask about their own account', async () => {
      const answer = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='${NS}'/></iq>`);
      // alice never sent presence and never logged out.
      assert.equal(errorCondition(answer), 'item-not-found');
      alice.send('<presence/>');
      await alice.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      const online = await alice.iq(`<iq type='get'><query xmlns='${NS}'/></iq>`);
      assert.equal(seconds(online), 0);
    });
  });
}
