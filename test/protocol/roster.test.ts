// Roster management (RFC 6121 section 2) against a real server process, on both databases:
// get, set, update, remove, pushes to interested resources only, versioning (2.6), the
// stream features, and every refused roster set with the error the RFC names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS_ROSTER = 'jabber:iq:roster';
const query = (el: Element): Element | undefined => el.getChild('query', NS_ROSTER);
const isPush = (el: Element): boolean => el.name === 'iq' && el.attrs.type === 'set' && query(el) !== undefined;
const pushFor = (jid: string) => (el: Element): boolean => isPush(el) && query(el)!.getChild('item')?.attrs.jid === jid;
const items = (result: Element): Element[] => query(result)?.getChildren('item') ?? [];
const groups = (item: Element): string[] => item.getChildren('group').map((g) => g.getText());

async function rosterGet(c: RawClient, ver?: string): Promise<Element> {
  const result = await c.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'${ver === undefined ? '' : ` ver='${ver}'`}/></iq>`);
  assert.equal(result.attrs.type, 'result', String(result));
  return result;
}

async function rosterSet(c: RawClient, item: string): Promise<Element> {
  return c.iq(`<iq type='set'><query xmlns='${NS_ROSTER}'>${item}</query></iq>`);
}

const groupsOf = (n: number): string => Array.from({ length: n }, (_, i) => `<group>g${i}</group>`).join('');

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`roster (${dialect})`, () => {
    let server: TestServer;
    const clients: RawClient[] = [];
    const login = async (user: string, resource?: string, presence = false): Promise<RawClient> => {
      const c = await RawClient.login(server.c2sPort, user, 'secret', { resource, presence });
      clients.push(c);
      return c;
    };

    before(async () => {
      server = await startTestServer({
        dialect,
        properties: { 'xmpp.roster.max-items': '3', 'xmpp.roster.max-text-length': '20', 'xmpp.roster.max-groups': '4' },
      });
      for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await server.addUser(u, 'secret');
    });

    after(async () => {
      for (const c of clients) await c.close();
      await server?.stop();
    });

    test('roster versioning and pre-approval are advertised after authentication only', async () => {
      const c = await RawClient.connect(server.c2sPort);
      clients.push(c);
      const preauth = await c.open();
      assert.equal(preauth.getChild('ver', 'urn:xmpp:features:rosterver'), undefined);
      assert.equal((await c.authPlain('alice', 'secret')).name, 'success');
      const features = await c.open();
      assert.ok(features.getChild('ver', 'urn:xmpp:features:rosterver'), String(features));
      assert.ok(features.getChild('sub', 'urn:xmpp:features:pre-approval'), String(features));
    });

    test('an empty roster; with ver the result carries the version', async () => {
      const alice = await login('alice', 'empty');
      const plain = await rosterGet(alice);
      assert.ok(query(plain));
      assert.equal(items(plain).length, 0);
      assert.equal(query(plain)!.attrs.ver, undefined, 'no version for a client that did not ask for versioning');
      const versioned = await rosterGet(alice, '');
      assert.equal(typeof query(versioned)!.attrs.ver, 'string');
    });

    test('a roster set adds the item and pushes it to every interested resource, and only to them', async () => {
      const one = await login('bob', 'one');
      const two = await login('bob', 'two', true);
      const bystander = await login('bob', 'three', true); // available but never asked for the roster
      await rosterGet(one);
      await rosterGet(two);
      const result = await rosterSet(one, `<item jid='romeo@example.net' name='Romeo'><group>Friends</group><group>Lovers</group></item>`);
      assert.equal(result.attrs.type, 'result', String(result));
      for (const c of [one, two]) {
        const push = await c.expect(pushFor('romeo@example.net'));
        assert.equal(push.attrs.to, c.jid);
        assert.equal(typeof query(push)!.attrs.ver, 'string', 'pushes carry the roster version');
        const item = query(push)!.getChild('item')!;
        assert.equal(item.attrs.name, 'Romeo');
        assert.equal(item.attrs.subscription, 'none');
        assert.equal(item.attrs.ask, undefined);
        assert.deepEqual(groups(item), ['Friends', 'Lovers']);
        c.send(`<iq type='result' id='${push.attrs.id}'/>`);
      }
      assert.ok(await bystander.nothing(isPush), 'a resource that did not request the roster gets no push');
      const roster = items(await rosterGet(one));
      assert.equal(roster.length, 1);
      assert.equal(roster[0]!.attrs.jid, 'romeo@example.net');
      assert.deepEqual(groups(roster[0]!), ['Friends', 'Lovers']);
    });

    test('an update replaces name and groups exactly; subscription values other than remove are ignored', async () => {
      const c = await login('carol');
      await rosterGet(c);
      await rosterSet(c, `<item jid='romeo@example.net' name='Romeo'><group>Friends</group></item>`);
      await c.expect(pushFor('romeo@example.net'));
      const update = await rosterSet(c, `<item jid='romeo@example.net' subscription='both' ask='subscribe' approved='true'><group>Family</group></item>`);
      assert.equal(update.attrs.type, 'result', String(update));
      const pushed = query(await c.expect(pushFor('romeo@example.net')))!.getChild('item')!;
      assert.equal(pushed.attrs.name, undefined, 'the handle was left out, so it is gone');
      assert.equal(pushed.attrs.subscription, 'none');
      assert.equal(pushed.attrs.ask, undefined);
      assert.equal(pushed.attrs.approved, undefined);
      assert.deepEqual(groups(pushed), ['Family']);
      const stored = await (await server.storage()).roster.get('carol', 'romeo@example.net');
      assert.equal(stored?.subscription, 'none');
    });

    test('versioning: an unchanged roster is answered empty, a changed one in full with the new version', async () => {
      const c = await login('dave');
      const first = query(await rosterGet(c, ''))!.attrs.ver!;
      const same = await rosterGet(c, first);
      assert.equal(same.getChildElements().length, 0, `empty result expected: ${same}`);
      await rosterSet(c, `<item jid='juliet@example.com'/>`);
      const push = await c.expect(pushFor('juliet@example.com'));
      const pushedVer = query(push)!.attrs.ver!;
      assert.notEqual(pushedVer, first);
      const changed = query(await rosterGet(c, first))!;
      assert.equal(changed.attrs.ver, pushedVer, 'the full roster carries the version of the last push');
      assert.deepEqual(changed.getChildren('item').map((i) => i.attrs.jid), ['juliet@example.com']);
      assert.equal((await rosterGet(c, pushedVer)).getChildElements().length, 0);
    });

    test('remove pushes subscription="remove"; removing what is not there is item-not-found', async () => {
      const c = await login('dave', 'remover');
      await rosterGet(c);
      await rosterSet(c, `<item jid='tybalt@example.com' name='Tybalt'/>`);
      await c.expect(pushFor('tybalt@example.com'));
      const removed = await rosterSet(c, `<item jid='tybalt@example.com' subscription='remove'/>`);
      assert.equal(removed.attrs.type, 'result', String(removed));
      const push = query(await c.expect(pushFor('tybalt@example.com')))!.getChild('item')!;
      assert.equal(push.attrs.subscription, 'remove');
      assert.ok(!items(await rosterGet(c)).some((i) => i.attrs.jid === 'tybalt@example.com'));
      const again = await rosterSet(c, `<item jid='tybalt@example.com' subscription='remove'/>`);
      assert.equal(errorCondition(again), 'item-not-found', String(again));
    });

    test('bad roster sets are refused with the conditions of RFC 6121 2.3.3', async () => {
      const c = await login('erin');
      await rosterGet(c);
      const cases: [string, string][] = [
        [`<item jid='a@example.com'/><item jid='b@example.com'/>`, 'bad-request'],
        [``, 'bad-request'],
        [`<item name='no jid'/>`, 'bad-request'],
        [`<item jid='a@b@c'/>`, 'jid-malformed'],
        [`<item jid='a@example.com/phone'/>`, 'bad-request'],
        [`<item jid='erin@localhost'/>`, 'not-allowed'],
        [`<item jid='a@example.com'><group>Friends</group><group>Friends</group></item>`, 'bad-request'],
        [`<item jid='a@example.com'><group></group></item>`, 'not-acceptable'],
        [`<item jid='a@example.com' name='${'n'.repeat(21)}'/>`, 'not-acceptable'],
        [`<item jid='a@example.com'><group>${'g'.repeat(21)}</group></item>`, 'not-acceptable'],
        [`<item jid='a@example.com'>${groupsOf(5)}</item>`, 'not-acceptable'],
      ];
      for (const [item, expected] of cases) {
        const answer = await rosterSet(c, item);
        assert.equal(answer.attrs.type, 'error', `${item} -> ${answer}`);
        assert.equal(errorCondition(answer), expected, `${item} -> ${answer}`);
      }
      // Twenty characters is the configured limit, counted in characters, not bytes.
      assert.equal((await rosterSet(c, `<item jid='a@example.com' name='${'é'.repeat(20)}'/>`)).attrs.type, 'result');
      assert.ok(await c.nothing(pushFor('b@example.com')), 'nothing refused was stored');
      assert.deepEqual(items(await rosterGet(c)).map((i) => i.attrs.jid), ['a@example.com']);
    });

    test('a roster holds at most xmpp.roster.max-items items (not-allowed beyond)', async () => {
      const c = await login('erin', 'full');
      for (const n of [2, 3]) assert.equal((await rosterSet(c, `<item jid='contact${n}@example.com'/>`)).attrs.type, 'result');
      const refused = await rosterSet(c, `<item jid='contact4@example.com'/>`);
      assert.equal(errorCondition(refused), 'not-allowed', String(refused));
      // Updating an item that is there still works.
      assert.equal((await rosterSet(c, `<item jid='contact2@example.com' name='Two'/>`)).attrs.type, 'result');
    });

    test('an item is in at most xmpp.roster.max-groups groups (4, then 5 set while running)', async () => {
      const c = await login('dave', 'groups');
      const refused = await rosterSet(c, `<item jid='grouped@example.com'>${groupsOf(5)}</item>`);
      assert.equal(errorCondition(refused), 'not-acceptable', String(refused));
      assert.equal(refused.getChild('error')!.getChildText('text'), 'An item may be in at most 4 groups');
      assert.equal((await rosterSet(c, `<item jid='grouped@example.com'>${groupsOf(4)}</item>`)).attrs.type, 'result');

      // Read at each request: a change reaches the running server at its next poll.
      await server.setProperty('xmpp.roster.max-groups', '5');
      const deadline = Date.now() + 10_000;
      let answer = await rosterSet(c, `<item jid='grouped@example.com'>${groupsOf(5)}</item>`);
      while (answer.attrs.type !== 'result' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await rosterSet(c, `<item jid='grouped@example.com'>${groupsOf(5)}</item>`);
      }
      assert.equal(answer.attrs.type, 'result', String(answer));
      assert.equal(errorCondition(await rosterSet(c, `<item jid='grouped@example.com'>${groupsOf(6)}</item>`)), 'not-acceptable');
    });

    test("another account's roster is forbidden, to read and to change", async () => {
      const c = await login('alice', 'nosy');
      const get = await c.iq(`<iq type='get' to='bob@localhost'><query xmlns='${NS_ROSTER}'/></iq>`);
      assert.equal(errorCondition(get), 'forbidden', String(get));
      const set = await c.iq(`<iq type='set' to='bob@localhost'><query xmlns='${NS_ROSTER}'><item jid='x@example.com'/></query></iq>`);
      assert.equal(errorCondition(set), 'forbidden', String(set));
      const own = await c.iq(`<iq type='get' to='alice@localhost'><query xmlns='${NS_ROSTER}'/></iq>`);
      assert.equal(own.attrs.type, 'result', 'addressing the own bare JID is fine');
    });

    test('nothing above made the server log an error', () => {
      assert.doesNotMatch(server.logs(), / ERROR /);
    });
  });
}
