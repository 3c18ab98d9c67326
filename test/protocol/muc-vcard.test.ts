// Room avatars on both databases: a room's vCard (XEP-0054 at its bare JID) that anyone
// reads and only owners set, within xmpp.vcard.max-bytes; its photo's hash in the room's
// disco#info (XEP-0486) and, on a change, a XEP-0153 presence from the room and status 104
// to the occupants; a persistent room keeps it in SQL across a restart.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { SERVICE, createRoom, enter, trioSuite, statuses } from '../helpers/muc-client.ts';

const MAX_BYTES = 2048;
const IMAGE = Buffer.from('a tiny image, as bytes that no decoder needs to read');
const IMAGE_HASH = createHash('sha1').update(IMAGE).digest('hex');

const vcardSet = (room: string, inner: string): string => `<iq type='set' to='${room}@${SERVICE}'><vCard xmlns='vcard-temp'>${inner}</vCard></iq>`;
const vcardGet = (room: string): string => `<iq type='get' to='${room}@${SERVICE}'><vCard xmlns='vcard-temp'/></iq>`;
const photo = (bytes: Buffer): string => `<FN>The room</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>${bytes.toString('base64')}</BINVAL></PHOTO>`;

/** The room's disco#info: its features and the values of its muc#roominfo avatar hash field (undefined when absent). */
async function roomInfo(client: RawClient, room: string): Promise<{ features: string[]; avatarHash: string[] | undefined }> {
  const query = (await client.iq(`<iq type='get' to='${room}@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
  const field = query.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attrs.var === 'muc#roominfo_avatarhash');
  return { features: query.getChildren('feature').map((f) => f.attrs.var!), avatarHash: field?.getChildren('value').map((v) => v.getText()) };
}

/** The avatar presence from the room's bare JID, and the 104 message, that an occupant gets on a change. */
async function avatarNotice(client: RawClient, room: string): Promise<{ hash: string; codes: string[] }> {
  const bare = `${room}@${SERVICE}`;
  const presence = await client.expect((el) => el.name === 'presence' && el.attrs.from === bare);
  const message = await client.expect((el) => el.name === 'message' && el.attrs.from === bare && statuses(el).length > 0);
  assert.equal(presence.attrs.type, undefined);
  return { hash: presence.getChild('x', 'vcard-temp:x:update')!.getChildText('photo')!, codes: statuses(message) };
}

const fromRoomBare = (room: string) => (el: Element): boolean => el.attrs.from === `${room}@${SERVICE}` && el.name !== 'iq';

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`room avatars (${dialect})`, () => {
    const suite = trioSuite({ dialect, properties: { 'xmpp.vcard.max-bytes': String(MAX_BYTES) } });

    test('a room without a vCard answers an empty one and advertises vcard-temp without an avatar hash', async () => {
      const { alice, carol } = suite;
      await createRoom(alice, 'plain', 'Alice');
      const got = await carol.iq(vcardGet('plain'));
      assert.equal(got.attrs.type, 'result');
      const vcard = got.getChild('vCard', 'vcard-temp');
      assert.ok(vcard);
      assert.deepEqual(vcard.getChildElements(), []);
      const info = await roomInfo(carol, 'plain');
      assert.ok(info.features.includes('vcard-temp'));
      assert.equal(info.avatarHash, undefined);
    });

    test('only owners set the vCard: occupants and strangers are forbidden, a vCard over the limit is not acceptable', async () => {
      const { alice, bob, carol } = suite;
      await createRoom(alice, 'guarded', 'Alice');
      await enter(bob, 'guarded', 'Bob');
      const byOccupant = await bob.iq(vcardSet('guarded', photo(IMAGE)));
      assert.equal(errorCondition(byOccupant), 'forbidden');
      assert.ok(byOccupant.getChild('error')!.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
      assert.equal(errorCondition(await carol.iq(vcardSet('guarded', photo(IMAGE)))), 'forbidden');
      const tooLarge = await alice.iq(vcardSet('guarded', photo(Buffer.alloc(MAX_BYTES, 7))));
      assert.equal(errorCondition(tooLarge), 'not-acceptable');
      assert.match(tooLarge.getChild('error')!.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')!, new RegExp(String(MAX_BYTES)));
      // Nothing was set, and nobody was told of anything.
      assert.deepEqual((await carol.iq(vcardGet('guarded'))).getChild('vCard')!.getChildElements(), []);
      assert.equal((await roomInfo(carol, 'guarded')).avatarHash, undefined);
      for (const c of [alice, bob]) assert.ok(await c.nothing(fromRoomBare('guarded'), 300));
    });

    test('an owner sets the avatar: occupants get the hash in presence and status 104, anyone reads it; an empty vCard removes it', async () => {
      const { alice, bob, carol } = suite;
      await createRoom(alice, 'pictured', 'Alice');
      await enter(bob, 'pictured', 'Bob');
      const set = await alice.iq(vcardSet('pictured', photo(IMAGE)));
      assert.equal(set.attrs.type, 'result');
      for (const c of [alice, bob]) assert.deepEqual(await avatarNotice(c, 'pictured'), { hash: IMAGE_HASH, codes: ['104'] });
      const got = (await carol.iq(vcardGet('pictured'))).getChild('vCard', 'vcard-temp')!;
      assert.equal(got.getChildText('FN'), 'The room');
      assert.equal(Buffer.from(got.getChild('PHOTO')!.getChildText('BINVAL')!, 'base64').toString(), IMAGE.toString());
      assert.deepEqual((await roomInfo(carol, 'pictured')).avatarHash, [IMAGE_HASH]);

      // The same photo again changes no avatar: nobody is told.
      assert.equal((await alice.iq(vcardSet('pictured', photo(IMAGE)))).attrs.type, 'result');
      for (const c of [alice, bob]) assert.ok(await c.nothing(fromRoomBare('pictured'), 300));

      assert.equal((await alice.iq(vcardSet('pictured', ''))).attrs.type, 'result');
      for (const c of [alice, bob]) assert.deepEqual(await avatarNotice(c, 'pictured'), { hash: '', codes: ['104'] });
      assert.deepEqual((await carol.iq(vcardGet('pictured'))).getChild('vCard')!.getChildElements(), []);
      assert.equal((await roomInfo(carol, 'pictured')).avatarHash, undefined);
    });

    test('a client that refuses the avatar presence stays in the room', async () => {
      const { alice, bob } = suite;
      await createRoom(alice, 'refusing', 'Alice');
      await enter(bob, 'refusing', 'Bob');
      await alice.iq(vcardSet('refusing', photo(IMAGE)));
      await avatarNotice(bob, 'refusing');
      bob.send(`<presence type='error' to='refusing@${SERVICE}'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`);
      assert.ok(await alice.nothing((el) => el.name === 'presence' && el.attrs.from === `refusing@${SERVICE}/Bob` && el.attrs.type === 'unavailable', 500));
      const ping = await bob.iq(`<iq type='get' to='refusing@${SERVICE}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`);
      assert.equal(ping.attrs.type, 'result');
    });

    test('a persistent room keeps its avatar in SQL across a restart', async () => {
      let { alice, bob, carol } = suite;
      await createRoom(alice, 'kept', 'Alice', { persistentroom: '1' });
      assert.equal((await alice.iq(vcardSet('kept', photo(IMAGE)))).attrs.type, 'result');
      const storage = await suite.server.storage();
      let stored: string | null | undefined;
      for (let i = 0; i < 100 && !stored; i++) {
        stored = (await storage.muc.rooms()).find((r) => r.name === 'kept')?.vcard;
        if (!stored) await sleep(50);
      }
      assert.match(stored ?? '', /<PHOTO>/);

      await suite.restart();
      ({ alice, bob, carol } = suite);
      assert.deepEqual((await roomInfo(carol, 'kept')).avatarHash, [IMAGE_HASH]);
      const got = (await carol.iq(vcardGet('kept'))).getChild('vCard', 'vcard-temp')!;
      assert.equal(got.getChildText('FN'), 'The room');
    });
  });
}
