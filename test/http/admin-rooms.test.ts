// Group chat rooms through the admin API, against a real server process and real XMPP
// connections in the rooms: create a persistent room, list it and look into it while users
// are in it, change its options and affiliations (occupants are told, 104 and new items),
// destroy it (occupants get the destroy presence); and the refusals of bad input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { NS_MUC_USER, SERVICE, enter, item, presenceOf, startAdminTrio, statuses } from '../helpers/muc-client.ts';
import { ADMIN_USER, admin, waitFor } from '../plugins/fixtures.ts';

let server: TestServer;
let alice: RawClient;
let bob: RawClient;
let carol: RawClient;

before(async () => {
  ({ server, trio: [alice, bob, carol] } = await startAdminTrio());
});

after(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
});

const api = (method: string, path: string, json?: unknown) => admin(server.adminPort, method, path, json === undefined ? {} : { json });

test('an operator creates a persistent room for an owner; bad names, options and duplicates are refused', async () => {
  const created = await api('POST', '/api/rooms', { name: 'Lobby', owner: 'alice@localhost', options: { roomname: 'The lobby', enablearchiving: true, maxusers: 50 } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.jid, `lobby@${SERVICE}`);
  assert.equal(created.body.title, 'The lobby');
  assert.equal(created.body.persistent, true);
  assert.equal(created.body.locked, false);
  assert.deepEqual(created.body.affiliations, [{ jid: 'alice@localhost', affiliation: 'owner', reason: '' }]);
  assert.equal(created.body.options.maxusers, 50);
  assert.equal(created.body.options.occupantIdSalt, undefined, 'the salt is the room\'s own');
  const storedRooms = async () => (await server.storage()).muc.rooms();
  await waitFor(async () => (await storedRooms()).some((r) => r.name === 'lobby'), 5_000, 'the room in the store');

  const dup = await api('POST', '/api/rooms', { name: `lobby@${SERVICE}`, owner: 'bob@localhost' });
  assert.deepEqual([dup.status, dup.body.code], [409, 'ROOM_EXISTS']);
  const badOption = await api('POST', '/api/rooms', { name: 'other', owner: 'bob@localhost', options: { colour: 'red' } });
  assert.deepEqual([badOption.status, badOption.body.code], [400, 'ROOM_INVALID']);
  assert.match(badOption.body.message, /colour/);
  assert.match((await api('POST', '/api/rooms', { name: 'other', owner: 'bob@localhost', options: { toString: 'x' } })).body.message, /no room option 'toString'/);
  const badType = await api('POST', '/api/rooms', { name: 'other', owner: 'bob@localhost', options: { publicroom: 'yes' } });
  assert.match(badType.body.message, /publicroom.*boolean/);
  const noSecret = await api('POST', '/api/rooms', { name: 'other', owner: 'bob@localhost', options: { passwordprotectedroom: true } });
  assert.deepEqual([noSecret.status, noSecret.body.message], [400, 'A password-protected room needs a password']);
  assert.equal((await api('POST', '/api/rooms', { name: 'a b', owner: 'bob@localhost' })).body.code, 'ROOM_INVALID');
  assert.equal((await api('POST', '/api/rooms', { name: 'x@elsewhere.example', owner: 'bob@localhost' })).body.code, 'ROOM_INVALID');
  assert.match((await api('POST', '/api/rooms', { name: 'other', owner: 'bob@localhost/phone' })).body.message, /not a bare JID/);
  assert.equal((await api('POST', '/api/rooms', { name: 'other' })).body.code, 'VALIDATION_FAILED');
  assert.deepEqual((await api('GET', '/api/rooms')).body.rooms.map((r: { name: string }) => r.name), ['lobby'], 'nothing left of refused ones');
});

test('the list and a room\'s detail show who is in it, with roles, affiliations and full JIDs', async () => {
  await enter(alice, 'lobby', 'Alice');
  await enter(bob, 'lobby', 'Bob');
  const list = await api('GET', '/api/rooms');
  assert.equal(list.status, 200);
  assert.equal(list.body.service, SERVICE);
  const lobby = list.body.rooms.find((r: { name: string }) => r.name === 'lobby');
  assert.equal(lobby.occupants, 2);
  assert.equal(lobby.public, true);
  assert.ok(Date.parse(lobby.created) <= Date.now());

  const detail = await api('GET', `/api/rooms/${encodeURIComponent(`lobby@${SERVICE}`)}`);
  assert.equal(detail.status, 200);
  assert.deepEqual(detail.body.occupants, [
    { nick: 'Alice', role: 'moderator', affiliation: 'owner', bare: 'alice@localhost', jids: ['alice@localhost/a'] },
    { nick: 'Bob', role: 'participant', affiliation: 'none', bare: 'bob@localhost', jids: ['bob@localhost/b'] },
  ]);
  const missing = await api('GET', '/api/rooms/nowhere');
  assert.deepEqual([missing.status, missing.body.code], [404, 'ROOM_NOT_FOUND']);
  assert.equal((await api('GET', '/api/rooms/nowhere@elsewhere.example')).body.code, 'ROOM_INVALID');
});

test('changing options tells occupants (104); affiliations change as an owner changes them', async () => {
  const told = bob.expect((el) => el.name === 'message' && el.attrs.from === `lobby@${SERVICE}` && statuses(el).includes('104'));
  const changed = await api('PATCH', '/api/rooms/lobby', { options: { roomname: 'The hall', whois: 'anyone' } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.title, 'The hall');
  assert.equal(changed.body.options.whois, 'anyone');
  await told;

  const promoted = alice.expect((el) => el.name === 'presence' && el.attrs.from === `lobby@${SERVICE}/Bob` && item(el)?.attrs.affiliation === 'admin');
  const raised = await api('PATCH', '/api/rooms/lobby', { affiliations: [{ jid: 'bob@localhost', affiliation: 'admin' }, { jid: 'carol@localhost', affiliation: 'outcast', reason: 'spam' }] });
  assert.equal(raised.status, 200, JSON.stringify(raised.body));
  assert.equal(item(await promoted)!.attrs.role, 'moderator', 'an admin moderates');
  assert.deepEqual(raised.body.affiliations.find((a: { jid: string }) => a.jid === 'carol@localhost'), { jid: 'carol@localhost', affiliation: 'outcast', reason: 'spam' });
  const banned = await api('GET', '/api/rooms/lobby');
  assert.equal(banned.body.occupants.find((o: { nick: string }) => o.nick === 'Bob').role, 'moderator');
  await waitFor(async () => (await (await server.storage()).muc.rooms()).find((r) => r.name === 'lobby')?.config.roomname === 'The hall', 5_000, 'the change stored');

  const lastOwner = await api('PATCH', '/api/rooms/lobby', { options: { roomdesc: 'not kept' }, affiliations: [{ jid: 'alice@localhost', affiliation: 'member' }] });
  assert.deepEqual([lastOwner.status, lastOwner.body.code], [400, 'ROOM_INVALID']);
  assert.match(lastOwner.body.message, /at least one owner/);
  const badValue = await api('PATCH', '/api/rooms/lobby', { options: { maxusers: 'lots' }, affiliations: [{ jid: 'carol@localhost', affiliation: 'none' }] });
  assert.match(badValue.body.message, /maxusers must be a whole number/);
  const unchanged = (await api('GET', '/api/rooms/lobby')).body;
  assert.equal(unchanged.options.roomdesc, '', 'a refused change changes nothing');
  assert.equal(unchanged.affiliations.find((a: { jid: string }) => a.jid === 'carol@localhost')?.affiliation, 'outcast');
  assert.match((await api('PATCH', '/api/rooms/lobby', { options: { maxusers: -1 } })).body.message, /maxusers/);
  assert.match((await api('PATCH', '/api/rooms/lobby', { options: { speed: 3 } })).body.message, /speed/);
  assert.equal((await api('PATCH', '/api/rooms/lobby', { affiliations: [{ jid: 'bob@localhost', affiliation: 'king' }] })).body.code, 'VALIDATION_FAILED');
  assert.equal((await api('PATCH', '/api/rooms/nowhere', { options: {} })).body.code, 'ROOM_NOT_FOUND');
});

test('a console session needs its CSRF token to destroy a room', async () => {
  const login = await api('POST', '/api/session', { jid: ADMIN_USER[0], password: ADMIN_USER[1] });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const refused = await admin(server.adminPort, 'DELETE', '/api/rooms/lobby', { user: null, headers: { cookie } });
  assert.deepEqual([refused.status, refused.body.code], [403, 'CSRF_TOKEN_INVALID']);
  assert.equal((await api('GET', '/api/rooms/lobby')).status, 200, 'the room is still there');
});

test('destroying a room sends every occupant the destroy presence with the reason and the alternate venue', async () => {
  const aliceTold = presenceOf(alice, 'lobby', 'Alice', 'unavailable');
  const bobTold = presenceOf(bob, 'lobby', 'Bob', 'unavailable');
  assert.equal((await api('DELETE', `/api/rooms/lobby?reason=${encodeURIComponent('moved upstairs')}&alternate=${encodeURIComponent(`hall@${SERVICE}`)}`)).status, 204);
  for (const told of [await aliceTold, await bobTold]) {
    const destroy = told.getChild('x', NS_MUC_USER)!.getChild('destroy')!;
    assert.deepEqual([destroy.attrs.jid, destroy.getChildText('reason')], [`hall@${SERVICE}`, 'moved upstairs']);
  }
  assert.equal((await api('GET', '/api/rooms/lobby')).body.code, 'ROOM_NOT_FOUND');
  assert.equal((await api('DELETE', '/api/rooms/lobby')).body.code, 'ROOM_NOT_FOUND');
  assert.equal((await api('DELETE', '/api/rooms/other?alternate=not%20a%20jid')).body.code, 'ROOM_INVALID');
  await waitFor(async () => (await (await server.storage()).muc.rooms()).length === 0, 5_000, 'the store to forget the room');
});
