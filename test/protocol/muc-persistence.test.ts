// Persistent group chat rooms on both databases: their configuration, subject and
// affiliations are in SQL and survive a restart of the server; a deleted account keeps no
// affiliation; a room made temporary again leaves the tables.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { StoredRoom } from '../../server/storage/types.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { NS_MAM, mamQuery, stanzaId } from '../helpers/mam-client.ts';
import { SERVICE, adminSet, configSubmit, createRoom, enter, item, join, loginTrio, restartWithTrio, statuses, subjectOf } from '../helpers/muc-client.ts';

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`persistent group chat rooms (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;
    let carol: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      [alice, bob, carol] = await loginTrio(server);
    });

    after(async () => {
      for (const c of [alice, bob, carol]) await c?.close();
      await server?.stop();
    });

    /** The stored room once `ready` holds for it (writes are asynchronous). */
    const storedRoom = async (name: string, ready: (r: StoredRoom | undefined) => boolean): Promise<StoredRoom | undefined> => {
      const storage = await server.storage();
      for (let i = 0; i < 100; i++) {
        const room = (await storage.muc.rooms()).find((r) => r.name === name);
        if (ready(room)) return room;
        await sleep(50);
      }
      throw new Error(`room ${name} not stored as expected`);
    };

    test('a persistent room keeps its configuration, subject and affiliations across a restart', async () => {
      await createRoom(alice, 'keep', 'Alice', { persistentroom: '1', roomname: 'Kept', membersonly: '1' });
      await alice.iq(adminSet('keep', `<item jid='bob@localhost' affiliation='member'/><item jid='carol@localhost' affiliation='outcast'><reason>no</reason></item>`));
      alice.send(`<message type='groupchat' to='keep@${SERVICE}'><subject>Kept things</subject></message>`);
      const stored = await storedRoom('keep', (r) => r?.subject === 'Kept things' && r.affiliations.length === 3);
      assert.equal(stored!.config.roomname, 'Kept');
      assert.deepEqual(stored!.affiliations.map((a) => [a.jid, a.affiliation]).sort(), [['alice@localhost', 'owner'], ['bob@localhost', 'member'], ['carol@localhost', 'outcast']]);

      [alice, bob, carol] = await restartWithTrio(server, [alice, bob, carol]);

      const info = (await bob.iq(`<iq type='get' to='keep@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
      assert.equal(info.getChild('identity')!.attrs.name, 'Kept');
      assert.ok(info.getChildren('feature').some((f) => f.attrs.var === 'muc_persistent'));
      const self = await join(bob, 'keep', 'Bob');
      assert.equal(item(self)!.attrs.affiliation, 'member');
      assert.equal((await subjectOf(bob, 'keep')).getChildText('subject'), 'Kept things');
      assert.equal(errorCondition(await join(carol, 'keep', 'Carol')), 'forbidden');
      const owner = await enter(alice, 'keep', 'Alice');
      assert.equal(item(owner)!.attrs.affiliation, 'owner');
      // Empty again, it stays.
      alice.send(`<presence type='unavailable' to='keep@${SERVICE}/Alice'/>`);
      bob.send(`<presence type='unavailable' to='keep@${SERVICE}/Bob'/>`);
      await sleep(200);
      const still = await carol.iq(`<iq type='get' to='keep@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      assert.equal(still.attrs.type, 'result');
    });

    test('a deleted account keeps no affiliation, in memory or in SQL', async () => {
      const removed = await bob.iq(`<iq type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>`);
      assert.equal(removed.attrs.type, 'result');
      const stored = await storedRoom('keep', (r) => r !== undefined && !r.affiliations.some((a) => a.jid === 'bob@localhost'));
      assert.equal(stored!.affiliations.length, 2);
      const members = await alice.iq(`<iq type='get' to='keep@${SERVICE}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`);
      assert.deepEqual(members.getChildElements()[0]!.getChildren('item'), []);
    });

    test('a room with archiving keeps its messages with stanza ids; occupants query the room\'s archive', async () => {
      await createRoom(alice, 'logged', 'Alice', { enablearchiving: '1', membersonly: '1' });
      await alice.iq(adminSet('logged', `<item jid='carol@localhost' affiliation='member'/>`));
      const self = await join(carol, 'logged', 'Carol');
      assert.ok(statuses(self).includes('170'), 'archiving is announced');
      const ids: string[] = [];
      for (const body of ['one', 'two', 'three']) {
        const echo = alice.expect((el) => el.name === 'message' && el.getChildText('body') === body);
        alice.send(`<message type='groupchat' to='logged@${SERVICE}'><body>${body}</body><stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='logged@${SERVICE}'/></message>`);
        const got = await echo;
        const id = stanzaId(got, `logged@${SERVICE}`);
        assert.ok(id && id !== 'forged');
        ids.push(id);
      }
      const all = await mamQuery(alice, { to: `logged@${SERVICE}` });
      assert.equal(all.iq.attrs.type, 'result');
      assert.deepEqual(all.bodies, ['one', 'two', 'three']);
      assert.deepEqual(all.ids, ids);
      const forwarded = all.results[0]!.getChild('result', NS_MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!;
      assert.equal(forwarded.attrs.from, `logged@${SERVICE}/Alice`);
      const after = await mamQuery(alice, { to: `logged@${SERVICE}`, rsm: `<after>${ids[0]}</after><max>1</max>` });
      assert.deepEqual(after.bodies, ['two']);
      // Not for strangers of a members-only room.
      await alice.iq(adminSet('logged', `<item jid='carol@localhost' affiliation='none'/>`));
      const refused = await mamQuery(carol, { to: `logged@${SERVICE}` });
      assert.equal(errorCondition(refused.iq), 'forbidden');
      const info = (await alice.iq(`<iq type='get' to='logged@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
      assert.ok(info.getChildren('feature').some((f) => f.attrs.var === NS_MAM));
    });

    test('a room made temporary leaves the tables, and vanishes with its last occupant', async () => {
      await enter(alice, 'keep', 'Alice');
      assert.equal((await alice.iq(configSubmit('keep', { persistentroom: '0' }))).attrs.type, 'result');
      await storedRoom('keep', (r) => r === undefined);
      alice.send(`<presence type='unavailable' to='keep@${SERVICE}/Alice'/>`);
      await sleep(200);
      const gone = await alice.iq(`<iq type='get' to='keep@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      assert.equal(errorCondition(gone), 'item-not-found');
    });
  });
}
