// A room on its own, behind its interfaces: what it sends goes to RoomOutput as one stanza
// and a list of full JIDs, what it keeps to RoomStore. This is the boundary a cluster owner
// node sits behind; here it shows the room needs nothing else (no kernel, no sessions), and
// that a snapshot of it makes the same room on another node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JID } from '../../jid/jid.ts';
import { StreamParser } from '../../xml/stream-parser.ts';
import type { Element } from '../../xml/element.ts';
import { defaultConfig } from './room-config.ts';
import type { RoomHost } from './room-output.ts';
import { Room } from './room.ts';

function parse(text: string): Element {
  let out: Element | undefined;
  const parser = new StreamParser({ streamStart: () => {}, element: (el) => { out = el; }, streamEnd: () => {}, error: (err) => { throw err; } }, { maxStanzaBytes: 100_000 });
  parser.write(Buffer.from(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${text}`));
  return out!;
}

function fixture(): { room: Room; host: RoomHost; sent: { stanza: Element; to: readonly string[] }[]; routed: Element[]; closed: string[]; writes: string[] } {
  const sent: { stanza: Element; to: readonly string[] }[] = [];
  const routed: Element[] = [];
  const closed: string[] = [];
  const writes: string[] = [];
  const host: RoomHost = {
    output: { toOccupants: (stanza, to) => sent.push({ stanza, to }), route: (stanza) => routed.push(stanza) },
    store: { saveRoom: (r) => writes.push(`room ${r.name}`), saveAffiliations: (n) => writes.push(`affiliations ${n}`), deleteRoom: (n) => writes.push(`delete ${n}`) },
    archive: { add: () => 'id', query: () => Promise.reject(new Error('no archive here')), delete: () => {}, recent: async () => [] },
    now: () => new Date(),
    maxHistory: 50,
    closed: (name) => closed.push(name),
    changed: () => {},
  };
  const room = new Room('r', 'conference.example', defaultConfig({ historylength: 10, maxusers: 0, occupantIdSalt: 'salt' }), host, { locked: false });
  room.setOwner('alice@example');
  return { room, host, sent, routed, closed, writes };
}

const join = (room: Room, from: string, nick: string): void => room.handle(parse(`<presence to='r@conference.example/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`), JID.parse(from));

test('one groupchat message is handed out once per occupant, with the full JIDs of its sessions', () => {
  const { room, sent } = fixture();
  join(room, 'alice@example/a', 'Alice');
  join(room, 'bob@example/b1', 'Bob');
  join(room, 'bob@example/b2', 'Bob');
  sent.length = 0;
  room.handle(parse(`<message type='groupchat' to='r@conference.example'><body>hi</body></message>`), JID.parse('alice@example/a'));
  assert.deepEqual(sent.map((s) => [s.stanza.attrs.from, [...s.to]]), [
    ['r@conference.example/Alice', ['alice@example/a']],
    ['r@conference.example/Alice', ['bob@example/b1', 'bob@example/b2']],
  ]);
  assert.equal(sent[0]!.stanza.attrs.to, undefined, 'the output sets the addressee');
});

test('a session that is gone leaves; the last one out closes a temporary room', () => {
  const { room, sent, closed, writes } = fixture();
  join(room, 'alice@example/a', 'Alice');
  join(room, 'bob@example/b', 'Bob');
  sent.length = 0;
  room.sessionGone('bob@example/b');
  assert.deepEqual(sent.map((s) => [s.stanza.attrs.from, s.stanza.attrs.type, [...s.to]]), [['r@conference.example/Bob', 'unavailable', ['alice@example/a']]]);
  assert.equal(room.occupants.size, 1);
  room.sessionGone('alice@example/a');
  assert.deepEqual(closed, ['r']);
  assert.deepEqual(writes, [], 'a temporary room writes nothing');
});

test('errors to strangers are routed with their own address', () => {
  const { room, routed } = fixture();
  room.handle(parse(`<message type='groupchat' to='r@conference.example'><body>hi</body></message>`), JID.parse('eve@example/e'));
  assert.deepEqual([routed[0]!.attrs.type, routed[0]!.attrs.to, routed[0]!.attrs.from], ['error', 'eve@example/e', 'r@conference.example']);
});

test('a snapshot makes the same room elsewhere: occupants, roles and history back, nobody told', () => {
  const { room } = fixture();
  join(room, 'alice@example/a', 'Alice');
  join(room, 'bob@example/b', 'Bob');
  room.handle(parse(`<iq type='set' id='v' to='r@conference.example'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Bob' role='visitor'/></query></iq>`), JID.parse('alice@example/a'));
  room.handle(parse(`<message type='groupchat' to='r@conference.example'><body>before</body></message>`), JID.parse('alice@example/a'));
  const copy = fixture();
  const moved = Room.fromSnapshot(JSON.parse(JSON.stringify(room.snapshot(true))), 'conference.example', copy.host);
  assert.equal(copy.sent.length, 0, 'a re-admission broadcasts nothing');
  assert.deepEqual([...moved.occupants.values()].map((o) => [o.nick, o.role, [...o.sessions.keys()]]), [['Alice', 'moderator', ['alice@example/a']], ['Bob', 'visitor', ['bob@example/b']]]);
  assert.equal(moved.affiliationOf('alice@example'), 'owner');
  // Bob, a visitor, still has no voice; a newcomer gets the history that moved with the room.
  moved.handle(parse(`<message type='groupchat' to='r@conference.example'><body>x</body></message>`), JID.parse('bob@example/b'));
  assert.equal(copy.routed[0]?.getChild('error')?.getChild('forbidden') !== undefined, true);
  join(moved, 'carol@example/c', 'Carol');
  const toCarol = copy.sent.filter((s) => s.to.includes('carol@example/c')).map((s) => s.stanza.getChildText('body')).filter(Boolean);
  assert.deepEqual(toCarol, ['before']);
  // Occupants whose sessions vanished with their node leave, seen by the others.
  copy.sent.length = 0;
  moved.sessionGone('bob@example/b');
  assert.deepEqual(copy.sent.map((s) => [s.stanza.attrs.from, s.stanza.attrs.type]), [['r@conference.example/Bob', 'unavailable'], ['r@conference.example/Bob', 'unavailable']]);
});
