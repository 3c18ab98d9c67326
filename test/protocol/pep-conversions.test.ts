// The conversions between PEP and the older stores, against a real server process on both
// databases: XEP-0398 (avatar metadata and vCard photo, with the XEP-0153 hash the server
// puts in presence) and XEP-0411 (XEP-0048 bookmarks in private XML and XEP-0402 items).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Element } from '../../server/xml/element.ts';
import type { RosterItem } from '../../server/storage/types.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { NS_PUBSUB, answerCaps, eventContent, expectEvent, publishIq } from '../helpers/pep-client.ts';

const AVATAR_DATA = 'urn:xmpp:avatar:data';
const AVATAR_META = 'urn:xmpp:avatar:metadata';
const BOOKMARKS = 'urn:xmpp:bookmarks:1';
const UPDATE = 'vcard-temp:x:update';
const FEATURES = ['http://jabber.org/protocol/caps', `${AVATAR_META}+notify`, `${BOOKMARKS}+notify`];

const image = (seed: string): { base64: string; hash: string } => {
  const bytes = Buffer.from(`\x89PNG fake image ${seed}`);
  return { base64: bytes.toString('base64'), hash: createHash('sha1').update(bytes).digest('hex') };
};
const contact = (jid: string): RosterItem => ({
  jid, name: null, subscription: 'both', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [],
});
const photoIn = (presence: Element): string | undefined => presence.getChild('x', UPDATE)?.getChild('photo')?.getText();
const presenceWithPhoto = (from: string, hash: string) => (el: Element): boolean =>
  el.name === 'presence' && el.attrs.from === from && photoIn(el) === hash;

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`PEP conversions (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let alice2: RawClient;
    let bob: RawClient;

    const online = async (user: string, resource: string): Promise<RawClient> => {
      const c = await RawClient.login(server.c2sPort, user, 'secret', { resource });
      // As clients do, something else first (the roster) and then presence.
      await c.iq(`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`);
      c.send(answerCaps(c).presence(FEATURES));
      return c;
    };

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
      const storage = await server.storage();
      await storage.roster.put('alice', contact('bob@localhost'));
      await storage.roster.put('bob', contact('alice@localhost'));
      bob = await online('bob', 'phone');
      alice = await online('alice', 'phone');
      alice2 = await online('alice', 'desktop');
      await new Promise((r) => setTimeout(r, 300));
    });

    after(async () => {
      for (const c of [alice, alice2, bob]) await c?.close();
      await server?.stop();
    });

    test('both conversions are advertised on the account', async () => {
      const answer = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      const vars = answer.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
      for (const f of ['urn:xmpp:pep-vcard-conversion:0', `${BOOKMARKS}#compat`]) assert.ok(vars.includes(f), `has ${f}`);
    });

    test('XEP-0398: a PEP avatar becomes the vCard photo and its hash is in the owner\'s presence', async () => {
      const { base64, hash } = image('one');
      await alice.iq(publishIq(AVATAR_DATA, hash, `<data xmlns='${AVATAR_DATA}'>${base64}</data>`));
      const announced = bob.expect(presenceWithPhoto('alice@localhost/phone', hash));
      const meta = expectEvent(bob, AVATAR_META);
      await alice.iq(publishIq(AVATAR_META, hash, `<metadata xmlns='${AVATAR_META}'><info id='${hash}' bytes='20' type='image/png'/></metadata>`));
      await announced;
      assert.equal(eventContent(await meta).getChild('item')!.attrs.id, hash);
      const vcard = (await bob.iq(`<iq type='get' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`)).getChild('vCard')!;
      assert.equal(vcard.getChild('PHOTO')!.getChildText('BINVAL'), base64);
      assert.equal(vcard.getChild('PHOTO')!.getChildText('TYPE'), 'image/png');
      // A resource that comes online later has the hash put in its presence too.
      const tablet = bob.expect(presenceWithPhoto('alice@localhost/tablet', hash));
      const late = await online('alice', 'tablet');
      await tablet;
      await late.close();
    });

    test('XEP-0398: a vCard photo is published as the PEP avatar, and no photo as no avatar', async () => {
      const { base64, hash } = image('two');
      const meta = expectEvent(bob, AVATAR_META);
      const announced = bob.expect(presenceWithPhoto('alice@localhost/phone', hash));
      const set = await alice.iq(`<iq type='set'><vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/jpeg</TYPE><BINVAL>${base64.slice(0, 8)}\n${base64.slice(8)}</BINVAL></PHOTO></vCard></iq>`);
      assert.equal(set.attrs.type, 'result');
      const info = eventContent(await meta).getChild('item')!.getChild('metadata', AVATAR_META)!.getChild('info')!;
      assert.deepEqual([info.attrs.id, info.attrs.type], [hash, 'image/jpeg']);
      const data = await bob.iq(`<iq type='get' to='alice@localhost'><pubsub xmlns='${NS_PUBSUB}'><items node='${AVATAR_DATA}'><item id='${hash}'/></items></pubsub></iq>`);
      assert.equal(data.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChildText('data'), base64);
      await announced;

      const none = expectEvent(bob, AVATAR_META);
      const cleared = bob.expect(presenceWithPhoto('alice@localhost/phone', ''));
      await alice.iq(`<iq type='set'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`);
      assert.equal(eventContent(await none).getChild('item')!.getChild('metadata')!.getChildElements().length, 0);
      await cleared;
      const vcard = (await alice.iq(`<iq type='get'><vCard xmlns='vcard-temp'/></iq>`)).getChild('vCard')!;
      assert.equal(vcard.getChild('PHOTO'), undefined);
      assert.equal(vcard.getChildText('FN'), 'Alice');
    });

    test('XEP-0411: private XML bookmarks become XEP-0402 items, and items come back as private bookmarks', async () => {
      const legacy = `<storage xmlns='storage:bookmarks'><conference jid='coven@chat.shakespeare.lit' name='The Coven' autojoin='1'><nick>alice</nick></conference><conference jid='globe@chat.shakespeare.lit' name='Globe'/><url name='Site' url='https://shakespeare.lit/'/></storage>`;
      const told = expectEvent(alice2, BOOKMARKS);
      assert.equal((await alice.iq(`<iq type='set'><query xmlns='jabber:iq:private'>${legacy}</query></iq>`)).attrs.type, 'result');
      const first = eventContent(await told).getChild('item')!;
      assert.equal(first.attrs.id, 'coven@chat.shakespeare.lit');
      assert.equal(first.getChild('conference', BOOKMARKS)!.attrs.autojoin, 'true');
      await expectEvent(alice2, BOOKMARKS);
      const items = async (): Promise<Element[]> => (await alice.iq(`<iq type='get'><pubsub xmlns='${NS_PUBSUB}'><items node='${BOOKMARKS}'/></pubsub></iq>`)).getChild('pubsub')!.getChild('items')!.getChildren('item');
      assert.deepEqual((await items()).map((i) => i.attrs.id), ['coven@chat.shakespeare.lit', 'globe@chat.shakespeare.lit']);
      assert.equal((await items())[0]!.getChild('conference')!.getChildText('nick'), 'alice');

      const privateBookmarks = async (): Promise<Element> =>
        (await alice.iq(`<iq type='get'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`)).getChild('query')!.getChild('storage')!;
      await alice2.iq(publishIq(BOOKMARKS, 'orchard@chat.shakespeare.lit', `<conference xmlns='${BOOKMARKS}' name='Orchard' autojoin='false'><password>pw</password></conference>`,
        { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' }));
      const deadline = Date.now() + 5_000;
      while ((await privateBookmarks()).getChildren('conference').length !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const converted = await privateBookmarks();
      const orchard = converted.getChildren('conference').find((c) => c.attrs.jid === 'orchard@chat.shakespeare.lit')!;
      assert.equal(orchard.getChildText('password'), 'pw');
      assert.equal(converted.getChild('url')!.attrs.url, 'https://shakespeare.lit/', 'URL bookmarks are kept');

      await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><retract node='${BOOKMARKS}' notify='true'><item id='globe@chat.shakespeare.lit'/></retract></pubsub></iq>`);
      while ((await privateBookmarks()).getChildren('conference').length !== 2 && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual((await privateBookmarks()).getChildren('conference').map((c) => c.attrs.jid).sort(), ['coven@chat.shakespeare.lit', 'orchard@chat.shakespeare.lit']);

      // A private document without a bookmark retracts its item.
      await alice.iq(`<iq type='set'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='orchard@chat.shakespeare.lit' name='Orchard'/></storage></query></iq>`);
      while ((await items()).length !== 1 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual((await items()).map((i) => i.attrs.id), ['orchard@chat.shakespeare.lit']);
    });
  });
}
