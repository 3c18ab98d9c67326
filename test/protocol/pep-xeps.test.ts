// What goes through PEP, with the publish-options the clients send, against a real server
// process on both databases: OMEMO device lists and bundles (XEP-0384), User Avatar
// (XEP-0084), User Nickname (XEP-0172) and PEP Native Bookmarks (XEP-0402).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../server/storage/types.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { NS_PUBSUB, answerCaps, eventContent, expectEvent, publishIq, pubsubCondition } from '../helpers/pep-client.ts';

const DEVICELIST = 'eu.siacs.conversations.axolotl.devicelist';
const BUNDLE = 'eu.siacs.conversations.axolotl.bundles:31415';
const AXOLOTL = 'eu.siacs.conversations.axolotl';
const AVATAR_DATA = 'urn:xmpp:avatar:data';
const AVATAR_META = 'urn:xmpp:avatar:metadata';
const NICK = 'http://jabber.org/protocol/nick';
const BOOKMARKS = 'urn:xmpp:bookmarks:1';
const FEATURES = ['http://jabber.org/protocol/caps', `${DEVICELIST}+notify`, `${AVATAR_META}+notify`, `${NICK}+notify`, `${BOOKMARKS}+notify`];
/** What XEP-0402 section 3 has clients publish with. */
const BOOKMARK_OPTIONS = { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' };
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');
const AVATAR_ID = '6d3a1b2f0f2ac54e7a3c5e5b1cba1dd3e0e1c7a4';

const contact = (jid: string): RosterItem => ({
  jid, name: null, subscription: 'both', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [],
});
const getItems = (to: string, node: string, inner = ''): string => `<iq type='get' to='${to}'><pubsub xmlns='${NS_PUBSUB}'><items node='${node}'>${inner}</items></pubsub></iq>`;

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`PEP payloads of XEP-0384, XEP-0084, XEP-0172, XEP-0402 (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let alice2: RawClient;
    let bob: RawClient;
    let carol: RawClient;

    const online = async (user: string, resource: string): Promise<RawClient> => {
      const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
      c.send(answerCaps(c).presence(FEATURES));
      return c;
    };

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'secret');
      const storage = await server.storage();
      await storage.roster.put('alice', contact('bob@localhost'));
      await storage.roster.put('bob', contact('alice@localhost'));
      alice = await online('alice', 'phone');
      alice2 = await online('alice', 'desktop');
      bob = await online('bob', 'phone');
      carol = await online('carol', 'pc');
      await new Promise((r) => setTimeout(r, 300));
    });

    after(async () => {
      for (const c of [alice, alice2, bob, carol]) await c?.close();
      await server?.stop();
    });

    test('OMEMO: the device list and a bundle are published open; contacts are told, anyone may fetch the bundle', async () => {
      const toBob = expectEvent(bob, DEVICELIST);
      const list = await alice.iq(publishIq(DEVICELIST, 'current', `<list xmlns='${AXOLOTL}'><device id='31415'/></list>`, { 'pubsub#access_model': 'open' }));
      assert.equal(list.attrs.type, 'result');
      const event = await toBob;
      assert.equal(eventContent(event).getChild('item')!.getChild('list', AXOLOTL)!.getChild('device')!.attrs.id, '31415');
      const bundle = `<bundle xmlns='${AXOLOTL}'><signedPreKeyPublic signedPreKeyId='1'>BQ==</signedPreKeyPublic><signedPreKeySignature>c2ln</signedPreKeySignature><identityKey>aWQ=</identityKey><prekeys><preKeyPublic preKeyId='1'>BQE=</preKeyPublic></prekeys></bundle>`;
      assert.equal((await alice.iq(publishIq(BUNDLE, 'current', bundle, { 'pubsub#access_model': 'open' }))).attrs.type, 'result');
      // carol is no contact: she starts an encrypted chat by fetching both.
      const devices = await carol.iq(getItems('alice@localhost', DEVICELIST));
      assert.equal(devices.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChild('list')!.getChild('device')!.attrs.id, '31415');
      const fetched = await carol.iq(getItems('alice@localhost', BUNDLE, `<item id='current'/>`));
      assert.equal(fetched.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChild('bundle', AXOLOTL)!.getChildText('identityKey'), 'aWQ=');
      // A second device republishes the list under the same id: the list is replaced.
      await alice2.iq(publishIq(DEVICELIST, 'current', `<list xmlns='${AXOLOTL}'><device id='31415'/><device id='27182'/></list>`, { 'pubsub#access_model': 'open' }));
      const both = await carol.iq(getItems('alice@localhost', DEVICELIST));
      assert.deepEqual(both.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.getChild('list')!.getChildren('device').length), [2]);
    });

    test('User Avatar: data then metadata; contacts hear of the metadata and fetch the data by id', async () => {
      // Conversations publishes avatars open, so that anyone (a chat room's occupants) may fetch them.
      const open = { 'pubsub#access_model': 'open' };
      const data = await alice.iq(publishIq(AVATAR_DATA, AVATAR_ID, `<data xmlns='${AVATAR_DATA}'>${PNG}</data>`, open));
      assert.equal(data.attrs.type, 'result');
      const toBob = expectEvent(bob, AVATAR_META);
      const meta = `<metadata xmlns='${AVATAR_META}'><info bytes='16' id='${AVATAR_ID}' height='1' width='1' type='image/png'/></metadata>`;
      assert.equal((await alice.iq(publishIq(AVATAR_META, AVATAR_ID, meta, open))).attrs.type, 'result');
      const info = eventContent(await toBob).getChild('item')!.getChild('metadata', AVATAR_META)!.getChild('info')!;
      assert.equal(info.attrs.id, AVATAR_ID);
      const fetched = await bob.iq(getItems('alice@localhost', AVATAR_DATA, `<item id='${info.attrs.id}'/>`));
      assert.equal(fetched.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChildText('data'), PNG);
      const byStranger = await carol.iq(getItems('alice@localhost', AVATAR_META));
      assert.equal(byStranger.getChild('pubsub')!.getChild('items')!.getChild('item')!.attrs.id, AVATAR_ID);
      // No avatar: empty metadata (XEP-0084 4.5).
      const toBobAgain = expectEvent(bob, AVATAR_META);
      await alice.iq(publishIq(AVATAR_META, 'none', `<metadata xmlns='${AVATAR_META}'/>`, open));
      assert.equal(eventContent(await toBobAgain).getChild('item')!.getChild('metadata')!.getChildElements().length, 0);
    });

    test('User Nickname: contacts get it, and a new resource gets it as the last item', async () => {
      const toBob = expectEvent(bob, NICK);
      await alice.iq(publishIq(NICK, 'current', `<nick xmlns='${NICK}'>Alice ☕</nick>`));
      assert.equal(eventContent(await toBob).getChild('item')!.getChildText('nick'), 'Alice ☕');
      const late = await online('bob', 'tablet');
      const last = await expectEvent(late, NICK);
      assert.equal(eventContent(last).getChild('item')!.getChildText('nick'), 'Alice ☕');
      await late.close();
    });

    test('Bookmarks: whitelist with max items; the owner\'s resources hear of each, contacts see nothing', async () => {
      const toDesktop = expectEvent(alice2, BOOKMARKS);
      const conference = (name: string): string => `<conference xmlns='${BOOKMARKS}' name='${name}' autojoin='true'><nick>alice</nick></conference>`;
      const first = await alice.iq(publishIq(BOOKMARKS, 'coven@chat.shakespeare.lit', conference('The Coven'), BOOKMARK_OPTIONS));
      assert.equal(first.attrs.type, 'result');
      const item = eventContent(await toDesktop).getChild('item')!;
      assert.equal(item.attrs.id, 'coven@chat.shakespeare.lit');
      assert.equal(item.getChild('conference', BOOKMARKS)!.attrs.name, 'The Coven');
      for (let i = 0; i < 5; i++) {
        assert.equal((await alice2.iq(publishIq(BOOKMARKS, `room${i}@chat.shakespeare.lit`, conference(`Room ${i}`), BOOKMARK_OPTIONS))).attrs.type, 'result');
      }
      const all = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='${BOOKMARKS}'/></pubsub></iq>`);
      assert.equal(all.getChild('pubsub')!.getChild('items')!.getChildren('item').length, 6, 'max_items max keeps them all');
      assert.ok(await bob.nothing((el) => el.name === 'message' && el.toString().includes(BOOKMARKS), 500));
      const refused = await bob.iq(getItems('alice@localhost', BOOKMARKS));
      assert.equal(errorCondition(refused), 'not-allowed');
      assert.equal(pubsubCondition(refused), 'closed-node');
      // Removing a bookmark: retract with notify.
      for (let i = 0; i < 6; i++) await expectEvent(alice, BOOKMARKS);
      const retracted = expectEvent(alice, BOOKMARKS);
      await alice2.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><retract node='${BOOKMARKS}' notify='true'><item id='room0@chat.shakespeare.lit'/></retract></pubsub></iq>`);
      assert.equal(eventContent(await retracted).getChild('retract')!.attrs.id, 'room0@chat.shakespeare.lit');
      // send_last_published_item never: a new resource fetches them itself.
      const late = await online('alice', 'tablet');
      assert.ok(await late.nothing((el) => el.name === 'message' && el.toString().includes(BOOKMARKS), 700));
      await late.close();
    });
  });
}
