// Registering a nick with a room (XEP-0045 7.10) on both databases: members register one,
// nobody else may register it, join under it or take it by a nick change; it is kept in SQL
// with the member's affiliation across a restart, and goes with the membership.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { SERVICE, adminSet, createRoom, enter, join, trioSuite } from '../helpers/muc-client.ts';

const ROOM = 'club';
const NS_REGISTER = 'jabber:iq:register';
const registerGet = `<iq type='get' to='${ROOM}@${SERVICE}'><query xmlns='${NS_REGISTER}'/></iq>`;
const registerSet = (nick: string, formType = 'http://jabber.org/protocol/muc#register'): string =>
  `<iq type='set' to='${ROOM}@${SERVICE}'><query xmlns='${NS_REGISTER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${formType}</value></field><field var='muc#register_roomnick'><value>${nick}</value></field></x></query></iq>`;

/** The nick the user registered, as jabber:iq:register and disco#info x-roomuser-item say (undefined for none). */
async function registered(client: RawClient): Promise<{ username: string | undefined; discoName: string | undefined }> {
  const query = (await client.iq(registerGet)).getChild('query', NS_REGISTER)!;
  const disco = (await client.iq(`<iq type='get' to='${ROOM}@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/></iq>`)).getChildElements()[0]!;
  if (!query.getChild('registered')) {
    assert.ok(query.getChild('x', 'jabber:x:data')!.getChildren('field').some((f) => f.attrs.var === 'muc#register_roomnick'), 'the form asks for the nick');
  }
  return { username: query.getChild('registered') ? query.getChildText('username') : undefined, discoName: disco.getChild('identity')?.attrs.name };
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`nick registration (${dialect})`, () => {
    const suite = trioSuite({ dialect }, async ({ alice }) => {
      await createRoom(alice, ROOM, 'Alice', { persistentroom: '1' });
      await alice.iq(adminSet(ROOM, `<item jid='bob@localhost' affiliation='member'/>`));
    });

    test('the room says it takes registrations; only members register, the banned are forbidden', async () => {
      const { alice, carol } = suite;
      const info = (await carol.iq(`<iq type='get' to='${ROOM}@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
      assert.ok(info.getChildren('feature').some((f) => f.attrs.var === 'http://jabber.org/protocol/muc#register'));
      assert.equal(errorCondition(await carol.iq(registerGet)), 'not-allowed');
      assert.equal(errorCondition(await carol.iq(registerSet('Caro'))), 'not-allowed');
      await alice.iq(adminSet(ROOM, `<item jid='carol@localhost' affiliation='outcast'/>`));
      assert.equal(errorCondition(await carol.iq(registerGet)), 'forbidden');
      await alice.iq(adminSet(ROOM, `<item jid='carol@localhost' affiliation='member'/>`));
    });

    test('a member registers a nick; bad forms are refused; nobody else registers it, joins under it or changes to it', async () => {
      const { bob, carol } = suite;
      assert.deepEqual(await registered(bob), { username: undefined, discoName: undefined });
      assert.equal(errorCondition(await bob.iq(registerSet(''))), 'not-acceptable');
      assert.equal(errorCondition(await bob.iq(registerSet('Bobby', 'urn:example:other'))), 'bad-request');
      assert.equal((await bob.iq(registerSet('Bobby'))).attrs.type, 'result');
      assert.deepEqual(await registered(bob), { username: 'Bobby', discoName: 'Bobby' });

      assert.equal(errorCondition(await carol.iq(registerSet('Bobby'))), 'conflict');
      assert.equal(errorCondition(await join(carol, ROOM, 'Bobby')), 'conflict');
      await enter(carol, ROOM, 'Carol');
      const refused = carol.expect((el) => el.name === 'presence' && el.attrs.type === 'error');
      carol.send(`<presence to='${ROOM}@${SERVICE}/Bobby'/>`);
      assert.equal(errorCondition(await refused), 'conflict');
      // A nick another occupant is using cannot be registered either.
      assert.equal(errorCondition(await bob.iq(registerSet('Carol'))), 'conflict');
      await enter(bob, ROOM, 'Bobby');
    });

    test('the registration is kept in SQL across a restart', async () => {
      let { alice, bob, carol } = suite;
      const storage = await suite.server.storage();
      let nick: string | null | undefined;
      for (let i = 0; i < 100 && !nick; i++) {
        nick = (await storage.muc.rooms()).find((r) => r.name === ROOM)?.affiliations.find((a) => a.jid === 'bob@localhost')?.nick;
        if (!nick) await sleep(50);
      }
      assert.equal(nick, 'Bobby');
      await suite.restart();
      ({ alice, bob, carol } = suite);
      assert.deepEqual(await registered(bob), { username: 'Bobby', discoName: 'Bobby' });
      assert.equal(errorCondition(await join(carol, ROOM, 'Bobby')), 'conflict');
    });

    test('a member gives the nick up, or loses it with the membership', async () => {
      const { alice, bob, carol } = suite;
      assert.equal((await bob.iq(`<iq type='set' to='${ROOM}@${SERVICE}'><query xmlns='${NS_REGISTER}'><remove/></query></iq>`)).attrs.type, 'result');
      assert.deepEqual(await registered(bob), { username: undefined, discoName: undefined });
      assert.equal((await carol.iq(registerSet('Bobby'))).attrs.type, 'result');
      await alice.iq(adminSet(ROOM, `<item jid='carol@localhost' affiliation='none'/>`));
      await alice.iq(adminSet(ROOM, `<item jid='carol@localhost' affiliation='member'/>`));
      assert.deepEqual(await registered(carol), { username: undefined, discoName: undefined });
      await enter(bob, ROOM, 'Bobby');
    });
  });
}
