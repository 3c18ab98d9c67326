// Occupants coming and going (XEP-0045 7.2 to 7.6, 7.14): joining, changing nick or
// presence, leaving, being taken out; and the presence every occupant gets of another, with
// the JIDs and status codes each viewer may see. Apart from room.ts because every other part
// of the room (messages, administration, configuration) announces its effects through it.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { historyRequest } from './history.ts';
import { NS_DELAY, NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID } from './namespaces.ts';
import { defaultRole, atLeast, type Affiliation, type Role } from './roles.ts';
import {
  CREATED, ERROR_KICK, LOGGED, NICK_CHANGED, NON_ANONYMOUS, SELF, type Occupant, type RoomState,
} from './room-state.ts';

/** What an occupant's presence says besides the occupant's own payload (see presenceFor). */
interface PresenceOptions {
  type?: 'unavailable';
  statuses?: string[];
  /** Status codes for the occupant's own copy only (110 is always added there). */
  self?: string[];
  role?: Role;
  affiliation?: Affiliation;
  nick?: string;
  actor?: string;
  reason?: string;
  payload?: Element[];
  extra?: Element;
}

/** The payload of a client's presence that occupants see: the MUC elements are the room's to write. */
function presencePayload(presence: Element): Element[] {
  return presence.getChildElements().filter((c) => {
    const ns = c.getNS();
    return ns !== NS_MUC && ns !== NS_MUC_USER && ns !== NS_OCCUPANT_ID && c.name !== 'error';
  }).map((c) => c.clone());
}

function sees(room: RoomState, viewer: Occupant): boolean {
  return room.config.whois === 'anyone' || viewer.role === 'moderator';
}

/** The <x xmlns=muc#user><item/></x> of an occupant as `viewer` sees it. */
function userItem(room: RoomState, subject: Occupant, viewer: Occupant | null, extra: { statuses?: string[]; role?: Role; affiliation?: Affiliation; nick?: string; actor?: string; reason?: string } = {}): Element {
  const item = xml('item', {
    affiliation: extra.affiliation ?? room.affiliationOf(subject.bare),
    role: extra.role ?? subject.role,
    jid: viewer === null || sees(room, viewer) ? [...subject.sessions.keys()][0] ?? subject.bare : undefined,
    nick: extra.nick,
  });
  if (extra.actor !== undefined) item.append(xml('actor', { nick: extra.actor }));
  if (extra.reason) item.append(xml('reason', null, extra.reason));
  const x = xml('x', { xmlns: NS_MUC_USER }, item);
  for (const code of extra.statuses ?? []) x.append(xml('status', { code }));
  return x;
}

/** An occupant's presence to everyone in the room; `self` codes go to the occupant alone (110 added). */
export function broadcastPresence(room: RoomState, subject: Occupant, opts: PresenceOptions = {}): void {
  // The others get one of two presences (with or without the subject's JID), each sent in
  // one call for all its viewers' sessions, so that it crosses to each other node once.
  const groups = new Map<boolean, { viewer: Occupant; jids: string[] }>();
  for (const viewer of room.everyone()) {
    if (viewer === subject) {
      room.send(presenceFor(room, subject, viewer, opts), viewer);
      continue;
    }
    const viewerSees = sees(room, viewer);
    const group = groups.get(viewerSees) ?? { viewer, jids: [] };
    group.jids.push(...viewer.sessions.keys());
    groups.set(viewerSees, group);
  }
  for (const { viewer, jids } of groups.values()) room.send(presenceFor(room, subject, viewer, opts), jids);
  room.touch();
}

/** An occupant's presence as `viewer` gets it: its own carries 110 and the `self` codes. */
function presenceFor(room: RoomState, subject: Occupant, viewer: Occupant, opts: PresenceOptions = {}): Element {
  const payload = opts.payload ?? (opts.type === 'unavailable' ? [] : presencePayload([...subject.sessions.values()][0] ?? xml('presence')));
  const own = viewer === subject;
  const statuses = [...(opts.statuses ?? []), ...(own ? [SELF, ...(opts.self ?? [])] : [])];
  const x = userItem(room, subject, viewer, { ...opts, statuses });
  if (opts.extra) x.append(opts.extra.clone());
  return xml('presence', { from: `${room.jid}/${subject.nick}`, type: opts.type },
    ...payload.map((p) => p.clone()), x, xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: subject.occupantId }));
}

/** A presence to the room or to one of its occupants' nicks. */
export function presence(room: RoomState, stanza: Element, from: JID, nick: string): void {
  const full = from.toString();
  const current = room.bySession.get(full);
  const type = stanza.attrs.type;
  if (type === 'error') {
    // Some clients refuse a presence from the room's bare JID (the avatar's, XEP-0486 7.2):
    // that says nothing of whether they are still in the room.
    if (current !== undefined && nick) removeOccupant(room, room.occupants.get(current)!, [ERROR_KICK], { role: 'none' });
    return;
  }
  if (type === 'unavailable') {
    if (current !== undefined) leave(room, room.occupants.get(current)!, full, presencePayload(stanza).filter((p) => p.name === 'status'));
    return;
  }
  if (type !== undefined) return;
  if (!nick) throw new StanzaError('jid-malformed', 'Join a room as room@service/nick');
  if (current === undefined) return join(room, stanza, from, nick);
  const occupant = room.occupants.get(current)!;
  if (current === nick) {
    occupant.sessions.set(full, stanza);
    return broadcastPresence(room, occupant);
  }
  changeNick(room, occupant, full, nick, stanza);
}

export function join(room: RoomState, stanza: Element, from: JID, nick: string, created = false): void {
  const full = from.toString();
  const bare = from.bareString();
  const affiliation = room.affiliationOf(bare);
  const muc = stanza.getChild('x', NS_MUC);
  if (affiliation === 'outcast') throw new StanzaError('forbidden', 'You are banned from this room');
  if (room.locked && affiliation !== 'owner') throw new StanzaError('item-not-found', 'The room is being set up by its owner');
  if (room.config.membersonly && !atLeast(affiliation, 'member')) throw new StanzaError('registration-required', 'The room is for members only');
  const taken = room.occupants.get(nick);
  if (taken && taken.bare !== bare) throw new StanzaError('conflict', 'That nickname is in use in the room');
  checkReserved(room, nick, bare);
  if (room.config.passwordprotectedroom && affiliation !== 'owner' && muc?.getChildText('password') !== room.config.roomsecret) {
    throw new StanzaError('not-authorized', 'The room needs the right password');
  }
  if (!taken && room.config.maxusers > 0 && room.occupants.size >= room.config.maxusers && !atLeast(affiliation, 'admin')) {
    throw new StanzaError('service-unavailable', 'The room is full', 'wait');
  }
  const self = [...(room.config.whois === 'anyone' ? [NON_ANONYMOUS] : []), ...(room.config.enablearchiving ? [LOGGED] : []), ...(created ? [CREATED] : [])];
  if (taken) {
    // Another session of the same user under the same nick (XEP-0045 7.2): one occupant,
    // already announced. The new session alone gets the whole join: the occupants, itself
    // with 110, history and subject; the others see nothing.
    taken.sessions.set(full, stanza);
    room.bySession.set(full, nick);
    for (const other of room.everyone()) if (other !== taken) room.send(presenceFor(room, other, taken), [full]);
    room.send(presenceFor(room, taken, taken, { self }), [full]);
    room.touch();
    welcome(room, full, muc, created);
    return;
  }
  const occupant: Occupant = { nick, bare, role: defaultRole(affiliation, room.config.moderatedroom), sessions: new Map([[full, stanza]]), occupantId: room.occupantId(bare) };
  // The newcomer hears of everyone already there, then everyone of the newcomer.
  for (const other of room.everyone()) room.send(presenceFor(room, other, occupant), [full]);
  room.occupants.set(nick, occupant);
  room.bySession.set(full, nick);
  broadcastPresence(room, occupant, { self });
  welcome(room, full, muc, created);
}

/** A nick another user registered is theirs alone (XEP-0045 7.10). */
export function checkReserved(room: RoomState, nick: string, bare: string): void {
  const holder = room.reservedBy(nick);
  if (holder !== undefined && holder !== bare) throw new StanzaError('conflict', 'That nickname is registered by another user of the room');
}

/** History and subject, to a session that just joined. */
function welcome(room: RoomState, full: string, muc: Element | undefined, created: boolean): void {
  if (created) return;
  for (const entry of room.history.select(historyRequest(muc?.getChild('history')), room.host.now())) {
    const message = entry.message.clone();
    message.append(xml('delay', { xmlns: NS_DELAY, from: room.jid, stamp: entry.at.toISOString() }));
    room.send(message, [full]);
  }
  room.send(xml('message', { type: 'groupchat', from: room.subjectBy ? `${room.jid}/${room.subjectBy}` : room.jid },
    xml('subject', null, room.subject)), [full]);
}

function changeNick(room: RoomState, occupant: Occupant, full: string, nick: string, stanza: Element): void {
  const taken = room.occupants.get(nick);
  if (taken && taken.bare !== occupant.bare) throw new StanzaError('conflict', 'That nickname is in use in the room');
  if (taken) throw new StanzaError('not-acceptable', 'Leave with one session before joining another nick');
  checkReserved(room, nick, occupant.bare);
  broadcastPresence(room, occupant, { type: 'unavailable', statuses: [NICK_CHANGED], nick });
  room.occupants.delete(occupant.nick);
  occupant.nick = nick;
  occupant.sessions.set(full, stanza);
  room.occupants.set(nick, occupant);
  for (const jid of occupant.sessions.keys()) room.bySession.set(jid, nick);
  broadcastPresence(room, occupant);
}

function leave(room: RoomState, occupant: Occupant, full: string, payload: Element[]): void {
  if (occupant.sessions.size > 1) {
    // The user stays in the room with its other sessions; this one alone hears it left.
    occupant.sessions.delete(full);
    room.bySession.delete(full);
    room.touch();
    room.send(xml('presence', { from: `${room.jid}/${occupant.nick}`, type: 'unavailable' },
      userItem(room, occupant, occupant, { role: 'none', statuses: [SELF] })), [full]);
    return;
  }
  removeOccupant(room, occupant, [], { payload });
}

/** A session ended without saying so (its node died): it leaves as if it had sent unavailable. */
export function sessionGone(room: RoomState, fullJid: string): void {
  const nick = room.bySession.get(fullJid);
  if (nick === undefined) return;
  const occupant = room.occupants.get(nick)!;
  // Nothing goes to the session that is gone; the others hear the user left once no session is left.
  occupant.sessions.delete(fullJid);
  room.bySession.delete(fullJid);
  if (occupant.sessions.size === 0) removeOccupant(room, occupant, []);
  else room.touch();
}

/** Takes an occupant out, every session of it, with the given status codes. */
export function removeOccupant(room: RoomState, occupant: Occupant, statuses: string[], opts: { role?: Role; affiliation?: Affiliation; actor?: string; reason?: string; payload?: Element[]; extra?: Element } = {}): void {
  broadcastPresence(room, occupant, { type: 'unavailable', statuses, role: 'none', ...opts });
  room.occupants.delete(occupant.nick);
  for (const jid of occupant.sessions.keys()) room.bySession.delete(jid);
  if (room.occupants.size === 0 && (!room.config.persistentroom || room.locked)) room.close();
}
