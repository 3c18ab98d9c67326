// Group chat administration (XEP-0045 8 to 10) against a real server process: kick, ban,
// voice in moderated rooms and voice requests, membership, admins and owners, the lists,
// invitations and declines, destroying a room, and the refusals of each.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import {
  NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER, SERVICE, adminSet, createRoom, enter, item, join, presenceOf, statuses,
  loginTrio,
} from '../helpers/muc-client.ts';

let server: TestServer;
let alice: RawClient;
let bob: RawClient;
let carol: RawClient;

before(async () => {
  server = await startTestServer();
  [alice, bob, carol] = await loginTrio(server);
});

after(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
});

const list = async (client: RawClient, room: string, attr: string): Promise<Element[]> => {
  const answer = await client.iq(`<iq type='get' to='${room}@${SERVICE}'><query xmlns='${NS_MUC_ADMIN}'><item ${attr}/></query></iq>`);
  if (answer.attrs.type !== 'result') throw new Error(String(answer));
  return answer.getChildElements()[0]!.getChildren('item');
};


test('a moderator kicks a participant (307, actor and reason); a participant may not kick', async () => {
  await createRoom(alice, 'kicks', 'Alice');
  await enter(bob, 'kicks', 'Bob');
  await enter(carol, 'kicks', 'Carol');
  const refused = await bob.iq(adminSet('kicks', `<item nick='Carol' role='none'/>`));
  assert.equal(errorCondition(refused), 'forbidden');
  const seen = presenceOf(carol, 'kicks', 'Bob', 'unavailable');
  const self = presenceOf(bob, 'kicks', 'Bob', 'unavailable');
  assert.equal((await alice.iq(adminSet('kicks', `<item nick='Bob' role='none'><reason>spam</reason></item>`))).attrs.type, 'result');
  const kicked = await self;
  assert.deepEqual(statuses(kicked).sort(), ['110', '307']);
  assert.equal(item(kicked)!.getChildText('reason'), 'spam');
  assert.equal(item(kicked)!.getChild('actor')!.attrs.nick, 'Alice');
  assert.deepEqual(statuses(await seen), ['307']);
  assert.equal(errorCondition(await alice.iq(adminSet('kicks', `<item nick='Nobody' role='none'/>`))), 'item-not-found');
  // Nobody kicks an owner.
  await alice.iq(adminSet('kicks', `<item jid='carol@localhost' affiliation='admin'/>`));
  await presenceOf(alice, 'kicks', 'Carol');
  assert.equal(errorCondition(await carol.iq(adminSet('kicks', `<item nick='Alice' role='none'/>`))), 'not-allowed');
  assert.equal(errorCondition(await carol.iq(adminSet('kicks', `<item nick='Alice' role='visitor'/>`))), 'not-allowed');
});

test('a ban removes the user with 301, keeps them out (forbidden) and is on the outcast list', async () => {
  await createRoom(alice, 'bans', 'Alice');
  await enter(bob, 'bans', 'Bob');
  const self = presenceOf(bob, 'bans', 'Bob', 'unavailable');
  assert.equal((await alice.iq(adminSet('bans', `<item jid='bob@localhost' affiliation='outcast'><reason>troll</reason></item>`))).attrs.type, 'result');
  const banned = await self;
  assert.deepEqual(statuses(banned).sort(), ['110', '301']);
  assert.equal(item(banned)!.attrs.affiliation, 'outcast');
  assert.equal(errorCondition(await join(bob, 'bans', 'Bob')), 'forbidden');
  const outcasts = await list(alice, 'bans', `affiliation='outcast'`);
  assert.deepEqual(outcasts.map((i) => [i.attrs.jid, i.getChildText('reason')]), [['bob@localhost', 'troll']]);
  assert.equal(errorCondition(await carol.iq(`<iq type='get' to='bans@${SERVICE}'><query xmlns='${NS_MUC_ADMIN}'><item affiliation='outcast'/></query></iq>`)), 'forbidden');
  // Lifting the ban lets them in again.
  await alice.iq(adminSet('bans', `<item jid='bob@localhost' affiliation='none'/>`));
  await enter(bob, 'bans', 'Bob');
});

test('in a moderated room visitors are silent until given voice, by a moderator or through a voice request', async () => {
  await createRoom(alice, 'stage', 'Alice', { moderatedroom: '1' });
  const self = await enter(bob, 'stage', 'Bob');
  assert.equal(item(self)!.attrs.role, 'visitor');
  const refused = bob.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  bob.send(`<message type='groupchat' to='stage@${SERVICE}'><body>may I?</body></message>`);
  assert.equal(errorCondition(await refused), 'forbidden');
  // The voice request goes to the moderator as a form; approving it gives voice.
  const request = alice.expect((el) => el.name === 'message' && el.getChild('x', 'jabber:x:data') !== undefined);
  bob.send(`<message to='stage@${SERVICE}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field></x></message>`);
  const form = (await request).getChild('x', 'jabber:x:data')!;
  const fields = new Map(form.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value')]));
  assert.equal(fields.get('muc#roomnick'), 'Bob');
  assert.equal(fields.get('muc#jid'), 'bob@localhost/b');
  const voiced = presenceOf(bob, 'stage', 'Bob');
  alice.send(`<message to='stage@${SERVICE}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field><field var='muc#roomnick'><value>Bob</value></field><field var='muc#request_allow'><value>true</value></field></x></message>`);
  assert.equal(item(await voiced)!.attrs.role, 'participant');
  const heard = alice.expect((el) => el.name === 'message' && el.getChildText('body') === 'thanks');
  bob.send(`<message type='groupchat' to='stage@${SERVICE}'><body>thanks</body></message>`);
  await heard;
  // Revoked again by the moderator through muc#admin, and listed by role.
  const silenced = presenceOf(bob, 'stage', 'Bob');
  await alice.iq(adminSet('stage', `<item nick='Bob' role='visitor'/>`));
  assert.equal(item(await silenced)!.attrs.role, 'visitor');
  assert.deepEqual((await list(alice, 'stage', `role='visitor'`)).map((i) => i.attrs.nick), ['Bob']);
  assert.equal(errorCondition(await bob.iq(`<iq type='get' to='stage@${SERVICE}'><query xmlns='${NS_MUC_ADMIN}'><item role='visitor'/></query></iq>`)), 'forbidden');
});

test('membership, admin and owner status: granted, listed, announced, and the last owner stays', async () => {
  await createRoom(alice, 'ranks', 'Alice', { membersonly: '1' });
  await alice.iq(adminSet('ranks', `<item jid='bob@localhost' affiliation='member'/>`));
  const self = await enter(bob, 'ranks', 'Bob');
  assert.equal(item(self)!.attrs.affiliation, 'member');
  assert.deepEqual((await list(alice, 'ranks', `affiliation='member'`)).map((i) => i.attrs.jid), ['bob@localhost']);
  // An admin is a moderator; admins may not make owners.
  const promoted = presenceOf(bob, 'ranks', 'Bob');
  await alice.iq(adminSet('ranks', `<item jid='bob@localhost' affiliation='admin'/>`));
  assert.deepEqual([item(await promoted)!.attrs.affiliation, item(await promoted)!.attrs.role], ['admin', 'moderator']);
  await alice.expect((el) => el.attrs.from === `ranks@${SERVICE}/Bob` && item(el)?.attrs.role === 'moderator');
  assert.equal(errorCondition(await bob.iq(adminSet('ranks', `<item jid='carol@localhost' affiliation='owner'/>`))), 'forbidden');
  assert.equal(errorCondition(await bob.iq(adminSet('ranks', `<item jid='alice@localhost' affiliation='none'/>`))), 'not-allowed');
  assert.equal(errorCondition(await alice.iq(adminSet('ranks', `<item jid='alice@localhost' affiliation='admin'/>`))), 'conflict');
  assert.equal((await alice.iq(adminSet('ranks', `<item jid='carol@localhost' affiliation='owner'/>`))).attrs.type, 'result');
  assert.deepEqual((await list(alice, 'ranks', `affiliation='owner'`)).map((i) => i.attrs.jid).sort(), ['alice@localhost', 'carol@localhost']);
  assert.equal(errorCondition(await alice.iq(adminSet('ranks', `<item jid='not a jid@' affiliation='member'/>`))), 'jid-malformed');
  // Losing membership in a members-only room removes the occupant (321).
  await alice.iq(adminSet('ranks', `<item jid='bob@localhost' affiliation='member'/>`));
  await presenceOf(bob, 'ranks', 'Bob');
  const removed = presenceOf(bob, 'ranks', 'Bob', 'unavailable');
  await alice.iq(adminSet('ranks', `<item jid='bob@localhost' affiliation='none'/>`));
  assert.deepEqual(statuses(await removed).sort(), ['110', '321']);
  // Making a room members-only removes those without membership (322).
  await createRoom(alice, 'closing', 'Alice');
  await enter(carol, 'closing', 'Carol');
  const closed = presenceOf(carol, 'closing', 'Carol', 'unavailable');
  await alice.iq(`<iq type='set' to='closing@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_membersonly'><value>1</value></field></x></query></iq>`);
  assert.deepEqual(statuses(await closed).sort(), ['110', '322']);
  // Only owners configure.
  assert.equal(errorCondition(await bob.iq(`<iq type='get' to='closing@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'/></iq>`)), 'forbidden');
});

test('mediated invitations reach the invitee from the room; in a members-only room they make a member; declines go back', async () => {
  await createRoom(alice, 'party', 'Alice', { membersonly: '1', allowinvites: '1' });
  const invitation = bob.expect((el) => el.name === 'message' && el.attrs.from === `party@${SERVICE}` && el.getChild('x', NS_MUC_USER)?.getChild('invite') !== undefined);
  alice.send(`<message to='party@${SERVICE}'><x xmlns='${NS_MUC_USER}'><invite to='bob@localhost'><reason>come</reason></invite></x></message>`);
  const invite = (await invitation).getChild('x', NS_MUC_USER)!.getChild('invite')!;
  assert.equal(invite.attrs.from, 'alice@localhost');
  assert.equal(invite.getChildText('reason'), 'come');
  await enter(bob, 'party', 'Bob');
  const decline = alice.expect((el) => el.name === 'message' && el.getChild('x', NS_MUC_USER)?.getChild('decline') !== undefined);
  carol.send(`<message to='party@${SERVICE}'><x xmlns='${NS_MUC_USER}'><decline to='alice@localhost'><reason>busy</reason></decline></x></message>`);
  const got = (await decline).getChild('x', NS_MUC_USER)!.getChild('decline')!;
  assert.deepEqual([got.attrs.from, got.getChildText('reason')], ['carol@localhost', 'busy']);
  // A stranger may not invite.
  const refused = carol.expect((el) => el.name === 'message' && el.attrs.type === 'error');
  carol.send(`<message to='party@${SERVICE}'><x xmlns='${NS_MUC_USER}'><invite to='bob@localhost'/></x></message>`);
  assert.equal(errorCondition(await refused), 'not-acceptable');
});

test('destroying a room tells every occupant of the alternate venue and the reason', async () => {
  await createRoom(alice, 'doomed', 'Alice');
  await enter(bob, 'doomed', 'Bob');
  assert.equal(errorCondition(await bob.iq(`<iq type='set' to='doomed@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'><destroy/></query></iq>`)), 'forbidden');
  const told = presenceOf(bob, 'doomed', 'Bob', 'unavailable');
  const done = await alice.iq(`<iq type='set' to='doomed@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'><destroy jid='lobby@${SERVICE}'><reason>moved</reason></destroy></query></iq>`);
  assert.equal(done.attrs.type, 'result');
  const destroy = (await told).getChild('x', NS_MUC_USER)!.getChild('destroy')!;
  assert.deepEqual([destroy.attrs.jid, destroy.getChildText('reason')], [`lobby@${SERVICE}`, 'moved']);
  assert.equal(errorCondition(await bob.iq(`<iq type='get' to='doomed@${SERVICE}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)), 'item-not-found');
});
