// XEP-0049 against a real server process, on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const query = (inner: string): string => `<query xmlns='jabber:iq:private'>${inner}</query>`;

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`private XML storage (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      await server.addUser('alice', 'secret');
      await server.addUser('bob', 'secret');
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
    });

    after(async () => {
      await alice?.close();
      await bob?.close();
      await server?.stop();
    });

    test('getting what was never stored returns the empty element asked for', async () => {
      const answer = await alice.iq(`<iq type='get'>${query(`<storage xmlns='storage:bookmarks'/>`)}</iq>`);
      assert.equal(answer.attrs.type, 'result');
      const storage = answer.getChild('query', 'jabber:iq:private')!.getChild('storage', 'storage:bookmarks')!;
      assert.ok(storage);
      assert.equal(storage.children.length, 0);
    });

    test('a stored element comes back whole', async () => {
      const bookmarks = `<storage xmlns='storage:bookmarks'><conference jid='room@muc.example.org' autojoin='true'><nick>Al</nick></conference></storage>`;
      assert.equal((await alice.iq(`<iq type='set'>${query(bookmarks)}</iq>`)).attrs.type, 'result');
      const answer = await alice.iq(`<iq type='get'>${query(`<storage xmlns='storage:bookmarks'/>`)}</iq>`);
      const conference = answer.getChild('query')!.getChild('storage', 'storage:bookmarks')!.getChild('conference')!;
      assert.equal(conference.attrs.jid, 'room@muc.example.org');
      assert.equal(conference.getChildText('nick'), 'Al');
    });

    test('elements are kept apart by name and namespace, and per user', async () => {
      await alice.iq(`<iq type='set'>${query(`<prefs xmlns='urn:example:client'><theme>dark</theme></prefs>`)}</iq>`);
      await alice.iq(`<iq type='set'>${query(`<other xmlns='urn:example:client'><x>1</x></other>`)}</iq>`);
      const prefs = await alice.iq(`<iq type='get'>${query(`<prefs xmlns='urn:example:client'/>`)}</iq>`);
      assert.equal(prefs.getChild('query')!.getChild('prefs')!.getChildText('theme'), 'dark');
      const other = await alice.iq(`<iq type='get'>${query(`<other xmlns='urn:example:client'/>`)}</iq>`);
      assert.equal(other.getChild('query')!.getChild('other')!.getChildText('x'), '1');
      const bobs = await bob.iq(`<iq type='get'>${query(`<prefs xmlns='urn:example:client'/>`)}</iq>`);
      assert.equal(bobs.getChild('query')!.getChild('prefs')!.children.length, 0, 'bob has nothing of alice\'s');
    });

    test('another user\'s storage is forbidden, to read and to write', async () => {
      const get = await bob.iq(`<iq type='get' to='alice@localhost'>${query(`<storage xmlns='storage:bookmarks'/>`)}</iq>`);
      assert.equal(errorCondition(get), 'forbidden');
      const set = await bob.iq(`<iq type='set' to='alice@localhost'>${query(`<storage xmlns='storage:bookmarks'/>`)}</iq>`);
      assert.equal(errorCondition(set), 'forbidden');
      const mine = await alice.iq(`<iq type='get'>${query(`<storage xmlns='storage:bookmarks'/>`)}</iq>`);
      assert.ok(mine.getChild('query')!.getChild('storage')!.getChild('conference'), 'alice\'s bookmarks are intact');
    });

    test('reserved namespaces are not-acceptable', async () => {
      for (const el of [`<vCard xmlns='vcard-temp'/>`, `<query xmlns='jabber:iq:roster'/>`, `<x xmlns='http://jabber.org/protocol/muc'/>`]) {
        const answer = await alice.iq(`<iq type='set'>${query(el)}</iq>`);
        assert.equal(errorCondition(answer), 'not-acceptable', el);
      }
    });

    test('a query without a child is not-acceptable', async () => {
      assert.equal(errorCondition(await alice.iq(`<iq type='get'>${query('')}</iq>`)), 'not-acceptable');
      assert.equal(errorCondition(await alice.iq(`<iq type='set'>${query('')}</iq>`)), 'not-acceptable');
    });
  });
}
