// XEP-0049 against a real server process, on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const query = (inner: string): string => `<query xmlns='jabber:iq:private'>${inner}</query>`;
const set = (inner: string): string => `<iq type='set'>${query(inner)}</iq>`;
const get = (inner: string): string => `<iq type='get'>${query(inner)}</iq>`;
const item = (n: number | string, body = ''): string => `<item xmlns='urn:example:item:${n}'>${body}</item>`;
/** The stored children of a private storage answer, by namespace, empty ones left out. */
const stored = (answer: { getChild(n: string): { getChildElements(): { getNS(): string | undefined; children: unknown[] }[] } | undefined }): string[] =>
  answer.getChild('query')!.getChildElements().filter((c) => c.children.length > 0).map((c) => c.getNS()!);

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`private XML storage (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;

    before(async () => {
      server = await startTestServer({ dialect, properties: { 'xmpp.private.max-bytes': '1024', 'xmpp.private.max-items': '5' } });
      for (const user of ['alice', 'bob', 'carol', 'dave']) await server.addUser(user, 'secret');
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

    test('an element over xmpp.private.max-bytes (1024 here) is not-acceptable, and nothing of the request is stored', async () => {
      const carol = await RawClient.login(server.c2sPort, 'carol', 'secret');
      const big = `<big xmlns='urn:example:big'>${'ß'.repeat(600)}</big>`;
      const refused = await carol.iq(set(`<small xmlns='urn:example:small'>1</small>${big}`));
      assert.equal(errorCondition(refused), 'not-acceptable', String(refused));
      assert.equal(refused.getChild('error')!.attrs.type, 'modify');
      assert.equal(refused.getChild('error')!.getChildText('text'), 'The element {urn:example:big}big is larger than the 1024 bytes allowed');
      const after = await carol.iq(get(`<small xmlns='urn:example:small'/><big xmlns='urn:example:big'/>`));
      assert.deepEqual(stored(after), []);
      // Just under the limit, as stored (with its namespace declared on the root), is fine.
      const fits = `<big xmlns='urn:example:big'>${'x'.repeat(1024 - `<big xmlns="urn:example:big"></big>`.length)}</big>`;
      assert.equal((await carol.iq(set(fits))).attrs.type, 'result');
      assert.deepEqual(stored(await carol.iq(get(`<big xmlns='urn:example:big'/>`))), ['urn:example:big']);
      await carol.close();
    });

    test('parallel sets from two resources never take a user past the limit', async () => {
      // alice has stored three elements above (bookmarks and two client elements): two places are left.
      const phone = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'phone' });
      const laptop = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'laptop' });
      const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => (n % 2 ? phone : laptop).iq(set(item(`race:${n}`, `<n>${n}</n>`)))));
      assert.equal(answers.filter((a) => a.attrs.type === 'result').length, 2, answers.map(String).join('\n'));
      assert.equal(answers.filter((a) => errorCondition(a) === 'not-acceptable').length, 4);
      const all = await phone.iq(get([1, 2, 3, 4, 5, 6].map((n) => item(`race:${n}`)).join('')));
      assert.equal(stored(all).length, 2);
      await phone.close();
      await laptop.close();
    });

    test('at most xmpp.private.max-items (5 here) elements per user; replacing one adds none; the limit is live', async () => {
      const dave = await RawClient.login(server.c2sPort, 'dave', 'secret');
      assert.equal((await dave.iq(set(item(1, '<v/>') + item(2, '<v/>')))).attrs.type, 'result');
      for (const n of [3, 4, 5]) assert.equal((await dave.iq(set(item(n, '<v/>')))).attrs.type, 'result', `item ${n}`);
      const refused = await dave.iq(set(item(6, '<v/>')));
      assert.equal(errorCondition(refused), 'not-acceptable', String(refused));
      assert.equal(refused.getChild('error')!.attrs.type, 'modify');
      assert.equal(refused.getChild('error')!.getChildText('text'), 'At most 5 elements can be kept in private storage');
      // A request mixing a replacement and a new element stores neither.
      assert.equal(errorCondition(await dave.iq(set(item(1, '<changed/>') + item(7, '<v/>')))), 'not-acceptable');
      const all = await dave.iq(get([1, 2, 3, 4, 5, 6, 7].map((n) => item(n)).join('')));
      assert.deepEqual(stored(all), [1, 2, 3, 4, 5].map((n) => `urn:example:item:${n}`));
      assert.equal(all.getChild('query')!.getChild('item', 'urn:example:item:1')!.getChild('changed'), undefined);

      const replaced = await dave.iq(set(item(1, '<changed/>')));
      assert.equal(replaced.attrs.type, 'result', 'replacing at the limit is fine');
      const one = await dave.iq(get(item(1)));
      assert.ok(one.getChild('query')!.getChild('item', 'urn:example:item:1')!.getChild('changed'));

      await server.setProperty('xmpp.private.max-items', '6');
      const deadline = Date.now() + 10_000;
      let answer = await dave.iq(set(item(6, '<v/>')));
      while (answer.attrs.type !== 'result' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await dave.iq(set(item(6, '<v/>')));
      }
      assert.equal(answer.attrs.type, 'result', String(answer));
      assert.equal(errorCondition(await dave.iq(set(item(7, '<v/>')))), 'not-acceptable');
      await dave.close();
    });

    test('nothing above made the server log an error', () => {
      assert.doesNotMatch(server.logs(), / ERROR /);
    });
  });
}
