// Group chat (XEP-0045) against a real server process over real sockets: discovery, creating
// rooms (instant and reserved), joining and its refusals, presence with status codes,
// history, subject, messages private and public, nick changes, leaving, occupant ids and
// self-ping. Administration is in muc-admin.test.ts, persistence in muc-persistence.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import {
  NS_MUC_OWNER, NS_MUC_USER, SERVICE, configSubmit, createRoom, enter, item, join, presenceOf, statuses, subjectOf,
  loginTrio,
} from '../helpers/muc-client.ts';

let server: TestServer;
let alice: RawClient;
let bob: RawClient;
let carol: RawClient;

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.muc.history-length': '5' } });
  [alice, bob, carol] = await loginTrio(server);
  await server.addUser('dave', 'secret');
});

after(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
});

const groupchat = (room: string, body: string): string => `<message type='groupchat' to='${room}@${SERVICE}'><body>${body}</body></message>`;
const fromRoom = (room: string, nick?: string) => (el: { attrs: Record<string, string | undefined> }): boolean => el.attrs.from === (nick ? `${room}@${SERVICE}/${nick}` : `${room}@${SERVICE}`);

test('the service is listed by the server and says it is a group chat service', async () => {
  const items = await alice.iq(`<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
  assert.ok(items.getChildElements()[0]!.getChildElements().some((i) => i.attrs.jid === SERVICE));
  const info = (await alice.iq(`<iq type='get' to='${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
  assert.deepEqual([info.getChild('identity')!.attrs.category, info.getChild('identity')!.attrs.type], ['conference', 'text']);
  assert.ok(info.getChildren('feature').some((f) => f.attrs.var === 'http://jabber.org/protocol/muc'));
});

test('a reserved room is locked until its owner configures it, then listed with its room info', async () => {
  const self = await join(alice, 'reserved', 'Alice');
  assert.deepEqual(statuses(self).sort(), ['110', '201']);
  assert.deepEqual([item(self)!.attrs.affiliation, item(self)!.attrs.role], ['owner', 'moderator']);
  // Locked: nobody else enters.
  const refused = await join(bob, 'reserved', 'Bob');
  assert.equal(errorCondition(refused), 'item-not-found');
  const form = await alice.iq(`<iq type='get' to='reserved@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'/></iq>`);
  const vars = form.getChildElements()[0]!.getChild('x')!.getChildren('field').map((f) => f.attrs.var);
  for (const v of ['roomname', 'roomdesc', 'persistentroom', 'publicroom', 'membersonly', 'moderatedroom', 'passwordprotectedroom', 'roomsecret', 'maxusers', 'whois', 'historylength', 'allowinvites', 'changesubject', 'allowpm', 'getmemberlist']) {
    assert.ok(vars.includes(`muc#roomconfig_${v}`), v);
  }
  assert.equal((await alice.iq(configSubmit('reserved', { roomname: 'The Reserved', roomdesc: 'About things' }))).attrs.type, 'result');
  await enter(bob, 'reserved', 'Bob');
  const info = (await bob.iq(`<iq type='get' to='reserved@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)).getChildElements()[0]!;
  assert.equal(info.getChild('identity')!.attrs.name, 'The Reserved');
  assert.ok(info.getChildren('feature').some((f) => f.attrs.var === 'muc_temporary'));
  const fields = new Map(info.getChild('x')!.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value')]));
  assert.equal(fields.get('FORM_TYPE'), 'http://jabber.org/protocol/muc#roominfo');
  assert.equal(fields.get('muc#roominfo_description'), 'About things');
  assert.equal(fields.get('muc#roominfo_occupants'), '2');
  const items = await bob.iq(`<iq type='get' to='${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
  assert.ok(items.getChildElements()[0]!.getChildren('item').some((i) => i.attrs.jid === `reserved@${SERVICE}` && i.attrs.name === 'The Reserved'));
  // The owner leaves with the last occupant: a temporary room vanishes.
  alice.send(`<presence type='unavailable' to='reserved@${SERVICE}/Alice'/>`);
  await presenceOf(bob, 'reserved', 'Alice', 'unavailable');
  const left = presenceOf(bob, 'reserved', 'Bob', 'unavailable');
  bob.send(`<presence type='unavailable' to='reserved@${SERVICE}/Bob'><status>bye</status></presence>`);
  assert.deepEqual(statuses(await left), ['110']);
  const gone = await bob.iq(`<iq type='get' to='reserved@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  assert.equal(errorCondition(gone), 'item-not-found');
});

test('cancelling the first configuration gives the new room up', async () => {
  await join(alice, 'cancelled', 'Alice');
  const answer = await alice.iq(`<iq type='set' to='cancelled@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query></iq>`);
  assert.equal(answer.attrs.type, 'result');
  await presenceOf(alice, 'cancelled', 'Alice', 'unavailable');
  const gone = await alice.iq(`<iq type='get' to='cancelled@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  assert.equal(errorCondition(gone), 'item-not-found');
});

test('occupants see each other join with items, the joiner last sees itself with 110, then the subject', async () => {
  await createRoom(alice, 'lobby', 'Alice', { whois: 'anyone' });
  const seen = presenceOf(alice, 'lobby', 'Bob');
  const others = presenceOf(bob, 'lobby', 'Alice');
  const self = await enter(bob, 'lobby', 'Bob');
  assert.deepEqual(statuses(self).sort(), ['100', '110']);
  assert.equal(item(self)!.attrs.jid, 'bob@localhost/b');
  const aliceSeen = await others;
  assert.deepEqual([item(aliceSeen)!.attrs.affiliation, item(aliceSeen)!.attrs.role], ['owner', 'moderator']);
  const bobSeen = await seen;
  assert.deepEqual([item(bobSeen)!.attrs.affiliation, item(bobSeen)!.attrs.role, item(bobSeen)!.attrs.jid], ['none', 'participant', 'bob@localhost/b']);
  // XEP-0421: the same occupant id in every copy, different for another user.
  const id = bobSeen.getChild('occupant-id', 'urn:xmpp:occupant-id:0')!.attrs.id;
  assert.ok(id);
  assert.equal(self.getChild('occupant-id')!.attrs.id, id);
  assert.notEqual(aliceSeen.getChild('occupant-id')!.attrs.id, id);
});

test('a groupchat message reaches every occupant from the sender\'s occupant JID; a stranger is refused', async () => {
  const atBob = bob.expect((el) => el.name === 'message' && fromRoom('lobby', 'Alice')(el) && el.getChildText('body') === 'hello all');
  const echo = alice.expect((el) => el.name === 'message' && fromRoom('lobby', 'Alice')(el) && el.getChildText('body') === 'hello all');
  alice.send(groupchat('lobby', 'hello all'));
  const got = await atBob;
  assert.equal(got.attrs.type, 'groupchat');
  assert.ok(got.getChild('occupant-id', 'urn:xmpp:occupant-id:0'));
  await echo;
  const refused = carol.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  carol.send(groupchat('lobby', 'let me in'));
  assert.equal(errorCondition(await refused), 'not-acceptable');
});

test('history on join: as many as the room keeps, cut by maxstanzas, maxchars and since, with delay from the room', async () => {
  await createRoom(alice, 'chatter', 'Alice');
  for (let i = 1; i <= 7; i++) alice.send(groupchat('chatter', `m${i}`));
  await alice.expect((el) => el.name === 'message' && el.getChildText('body') === 'm7');
  const bodies = async (client: RawClient, nick: string, inner: string): Promise<string[]> => {
    const got: string[] = [];
    await join(client, 'chatter', nick, inner);
    for (;;) {
      const el = await client.expect((e) => e.name === 'message' && e.attrs.from?.startsWith(`chatter@${SERVICE}`) === true);
      if (el.getChild('subject')) break;
      const delay = el.getChild('delay', 'urn:xmpp:delay')!;
      assert.equal(delay.attrs.from, `chatter@${SERVICE}`);
      assert.ok(!Number.isNaN(Date.parse(delay.attrs.stamp!)));
      got.push(el.getChildText('body')!);
    }
    client.send(`<presence type='unavailable' to='chatter@${SERVICE}/${nick}'/>`);
    await presenceOf(client, 'chatter', nick, 'unavailable');
    return got;
  };
  assert.deepEqual(await bodies(bob, 'Bob', ''), ['m3', 'm4', 'm5', 'm6', 'm7']);
  assert.deepEqual(await bodies(bob, 'Bob', `<history maxstanzas='2'/>`), ['m6', 'm7']);
  assert.deepEqual(await bodies(bob, 'Bob', `<history maxchars='0'/>`), []);
  assert.deepEqual(await bodies(bob, 'Bob', `<history since='${new Date(Date.now() + 60_000).toISOString()}'/>`), []);
  assert.deepEqual(await bodies(bob, 'Bob', `<history seconds='600' maxstanzas='1'/>`), ['m7']);
});

test('the subject: refused to a participant, set by a moderator, sent to whoever joins', async () => {
  await createRoom(alice, 'topics', 'Alice');
  await enter(bob, 'topics', 'Bob');
  const refused = bob.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  bob.send(`<message type='groupchat' to='topics@${SERVICE}'><subject>mine</subject></message>`);
  assert.equal(errorCondition(await refused), 'forbidden');
  const atBob = bob.expect((el) => el.name === 'message' && el.getChildText('subject') === 'Cats');
  alice.send(`<message type='groupchat' to='topics@${SERVICE}'><subject>Cats</subject></message>`);
  assert.equal((await atBob).attrs.from, `topics@${SERVICE}/Alice`);
  await join(carol, 'topics', 'Carol');
  const subject = await subjectOf(carol, 'topics');
  assert.equal(subject.getChildText('subject'), 'Cats');
});

test('joins refused: no nick, a nick in use, a wrong password, a full room, members only', async () => {
  await createRoom(alice, 'guarded', 'Alice', { passwordprotectedroom: '1', roomsecret: 'sesame', maxusers: '2' });
  const noNick = bob.expect((el) => el.name === 'presence' && el.attrs.type === 'error');
  bob.send(`<presence to='guarded@${SERVICE}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  assert.equal(errorCondition(await noNick), 'jid-malformed');
  assert.equal(errorCondition(await join(bob, 'guarded', 'Bob')), 'not-authorized');
  assert.equal(errorCondition(await join(bob, 'guarded', 'Bob', '<password>wrong</password>')), 'not-authorized');
  assert.equal(errorCondition(await join(bob, 'guarded', 'Alice', '<password>sesame</password>')), 'conflict');
  await enter(bob, 'guarded', 'Bob', '<password>sesame</password>');
  assert.equal(errorCondition(await join(carol, 'guarded', 'Carol', '<password>sesame</password>')), 'service-unavailable');

  await createRoom(alice, 'club', 'Alice', { membersonly: '1' });
  assert.equal(errorCondition(await join(bob, 'club', 'Bob')), 'registration-required');
});

test('a nick change is announced with 303 and the new nick, then the new presence', async () => {
  await createRoom(alice, 'names', 'Alice');
  await enter(bob, 'names', 'Bob');
  const leaving = presenceOf(alice, 'names', 'Bob', 'unavailable');
  const selfLeaving = presenceOf(bob, 'names', 'Bob', 'unavailable');
  bob.send(`<presence to='names@${SERVICE}/Robert'/>`);
  const old = await leaving;
  assert.deepEqual(statuses(old), ['303']);
  assert.equal(item(old)!.attrs.nick, 'Robert');
  assert.deepEqual(statuses(await selfLeaving).sort(), ['110', '303']);
  await presenceOf(alice, 'names', 'Robert');
  const conflict = bob.expect((el) => el.name === 'presence' && el.attrs.type === 'error');
  bob.send(`<presence to='names@${SERVICE}/Alice'/>`);
  assert.equal(errorCondition(await conflict), 'conflict');
});

test('private messages go through the room to one occupant; unknown nicks and strangers are refused', async () => {
  await createRoom(alice, 'whispers', 'Alice');
  await enter(bob, 'whispers', 'Bob');
  const atBob = bob.expect((el) => el.name === 'message' && fromRoom('whispers', 'Alice')(el));
  alice.send(`<message type='chat' to='whispers@${SERVICE}/Bob'><body>psst</body></message>`);
  const pm = await atBob;
  assert.equal(pm.getChildText('body'), 'psst');
  assert.ok(pm.getChild('x', NS_MUC_USER));
  const unknown = alice.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  alice.send(`<message type='chat' to='whispers@${SERVICE}/Nobody'><body>hi</body></message>`);
  assert.equal(errorCondition(await unknown), 'item-not-found');
  const stranger = carol.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  carol.send(`<message type='chat' to='whispers@${SERVICE}/Bob'><body>hi</body></message>`);
  assert.equal(errorCondition(await stranger), 'not-acceptable');
  const wrongType = alice.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  alice.send(`<message type='groupchat' to='whispers@${SERVICE}/Bob'><body>hi</body></message>`);
  assert.equal(errorCondition(await wrongType), 'bad-request');
});

test('a second session under its user\'s nick gets the whole join alone; the others see one occupant until its last session leaves', async () => {
  await createRoom(alice, 'devices', 'Alice', { whois: 'anyone' });
  await enter(bob, 'devices', 'Bob');
  await enter(carol, 'devices', 'Carol');
  const bobId = (await presenceOf(alice, 'devices', 'Bob')).getChild('occupant-id')!.attrs.id;
  await presenceOf(carol, 'devices', 'Bob');
  alice.send(groupchat('devices', 'before the second device'));
  for (const c of [alice, bob, carol]) await c.expect((el) => el.name === 'message' && el.getChildText('body') === 'before the second device');
  const bob2 = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'b2', presence: true });
  try {
    bob2.send(`<presence to='devices@${SERVICE}/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    // In order: every occupant's presence, its own with 110, the history, the subject.
    const fromDevices = (el: { attrs: Record<string, string | undefined> }): boolean => el.attrs.from?.startsWith(`devices@${SERVICE}`) === true;
    const sequence = [];
    for (let i = 0; i < 5; i++) sequence.push(await bob2.expect(fromDevices));
    assert.deepEqual(sequence.map((el) => [el.name, el.attrs.from]), [
      ['presence', `devices@${SERVICE}/Alice`], ['presence', `devices@${SERVICE}/Carol`], ['presence', `devices@${SERVICE}/Bob`],
      ['message', `devices@${SERVICE}/Alice`], ['message', `devices@${SERVICE}`],
    ]);
    assert.deepEqual(statuses(sequence[0]!), []);
    assert.deepEqual([item(sequence[0]!)!.attrs.affiliation, item(sequence[0]!)!.attrs.jid], ['owner', 'alice@localhost/a']);
    assert.deepEqual(statuses(sequence[2]!).sort(), ['100', '110']);
    assert.equal(sequence[2]!.getChild('occupant-id')!.attrs.id, bobId);
    assert.equal(sequence[3]!.getChildText('body'), 'before the second device');
    assert.ok(sequence[3]!.getChild('delay', 'urn:xmpp:delay'));
    assert.ok(sequence[4]!.getChild('subject'));
    // Nobody else hears of the second session, not even the first.
    for (const c of [alice, bob, carol]) assert.ok(await c.nothing(fromRoom('devices', 'Bob'), 300));

    // A private message to the nick reaches both sessions.
    alice.send(`<message type='chat' to='devices@${SERVICE}/Bob'><body>to both</body></message>`);
    for (const c of [bob, bob2]) assert.equal((await c.expect((el) => el.name === 'message' && fromRoom('devices', 'Alice')(el))).getChildText('body'), 'to both');

    // One session leaving is its own affair; the last one takes the occupant out.
    const left = presenceOf(bob2, 'devices', 'Bob', 'unavailable');
    bob2.send(`<presence type='unavailable' to='devices@${SERVICE}/Bob'/>`);
    assert.ok(statuses(await left).includes('110'));
    for (const c of [alice, bob, carol]) assert.ok(await c.nothing(fromRoom('devices', 'Bob'), 300));
    alice.send(groupchat('devices', 'still here?'));
    assert.equal((await bob.expect((el) => el.name === 'message' && fromRoom('devices', 'Alice')(el))).getChildText('body'), 'still here?');
    assert.ok(await bob2.nothing((el) => el.name === 'message' && fromRoom('devices', 'Alice')(el), 300));
    const gone = [presenceOf(alice, 'devices', 'Bob', 'unavailable'), presenceOf(carol, 'devices', 'Bob', 'unavailable')];
    bob.send(`<presence type='unavailable' to='devices@${SERVICE}/Bob'/>`);
    for (const p of gone) assert.equal(item(await p)!.attrs.role, 'none');
  } finally {
    await bob2.close();
  }
});

test('a public room lists its occupants; an occupant\'s JID answers strangers bad-request', async () => {
  await createRoom(alice, 'listed', 'Alice');
  const items = await carol.iq(`<iq type='get' to='listed@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
  assert.deepEqual(items.getChildElements()[0]!.getChildren('item').map((i) => i.attrs.jid), [`listed@${SERVICE}/Alice`]);
  const refused = await carol.iq(`<iq type='get' to='listed@${SERVICE}/Alice'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
  assert.equal(errorCondition(refused), 'bad-request');
});

test('self-ping: answered for one\'s own occupant JID, not-acceptable when not joined', async () => {
  await createRoom(alice, 'pings', 'Alice');
  const ok = await alice.iq(`<iq type='get' to='pings@${SERVICE}/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(ok.attrs.type, 'result');
  const no = await bob.iq(`<iq type='get' to='pings@${SERVICE}/Alice'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(errorCondition(no), 'not-acceptable');
});

test('a session that ends leaves its rooms; an error from an occupant\'s client removes it with 333', async () => {
  await createRoom(alice, 'leavers', 'Alice');
  const dave = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'd', presence: true });
  await enter(dave, 'leavers', 'Dave');
  const gone = presenceOf(alice, 'leavers', 'Dave', 'unavailable');
  await dave.close();
  assert.equal(item(await gone)!.attrs.role, 'none');

  await enter(bob, 'leavers', 'Bob');
  const kicked = presenceOf(alice, 'leavers', 'Bob', 'unavailable');
  bob.send(`<message type='error' to='leavers@${SERVICE}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
  assert.deepEqual(statuses(await kicked), ['333']);
});

test('a message to a room that does not exist is refused', async () => {
  const refused = alice.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  alice.send(groupchat('nowhere', 'hello?'));
  assert.equal(errorCondition(await refused), 'item-not-found');
});

test('/metrics counts the rooms this node holds, their occupants and dropped archive rows', async () => {
  const scrape = async (): Promise<Map<string, number>> => {
    const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    return new Map(text.split('\n').filter((l) => /^xmppd_(muc|archive)_/.test(l)).map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
  };
  const before = await scrape();
  await createRoom(alice, 'counted', 'Alice');
  await enter(bob, 'counted', 'Bob');
  const after = await scrape();
  assert.equal(after.get('xmppd_muc_rooms'), before.get('xmppd_muc_rooms')! + 1);
  assert.equal(after.get('xmppd_muc_occupants'), before.get('xmppd_muc_occupants')! + 2);
  assert.equal(after.get('xmppd_muc_archive_rows_dropped_total'), 0);
  assert.equal(after.get('xmppd_archive_rows_dropped_total'), 0);
  assert.equal(after.get('xmppd_archive_rows_pending'), 0);
});
