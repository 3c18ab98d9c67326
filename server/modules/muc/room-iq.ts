// The IQs a room answers at its bare JID and its occupants' JIDs: disco (the room's features
// and options, its occupants, one's registered nick), pings (XEP-0410), its vCard, archive
// queries (XEP-0313), nick registration (XEP-0045 7.10); owners' and admins' queries are handed
// to room-owner.ts and room-affiliations.ts. Apart from room.ts so that one place says what
// the room answers, and who may ask.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_MAM } from '../mam/prefs.ts';
import { queryFormElement } from '../mam/query-form.ts';
import { NS_SID } from '../mam/stanza-id.ts';
import {
  NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_REGISTER, NS_MUC_ROOMINFO,
  NS_OCCUPANT_ID, NS_PING, NS_REGISTER, NS_SELF_PING, NS_VCARD,
} from './namespaces.ts';
import { readRegistration, registrationQuery } from './nick-registration.ts';
import { configForm } from './room-config.ts';
import { atLeast, type Affiliation, type Role } from './roles.ts';
import { adminList, adminSet } from './room-affiliations.ts';
import { ownerSet, setVcard } from './room-owner.ts';
import { checkReserved } from './room-presence.ts';
import type { Occupant, RoomState } from './room-state.ts';
import { roomVcardElement, roomVcardText } from './room-vcard.ts';

/** An IQ to the room or to one of its occupants' nicks. */
export function iq(room: RoomState, stanza: Element, from: JID, nick: string): void {
  const type = stanza.attrs.type;
  if (type !== 'get' && type !== 'set') return;
  const payload = stanza.getChildElements()[0];
  const ns = payload?.getNS();
  const sender = room.occupantOf(from);
  if (nick) {
    // XEP-0410: a ping to one's own occupant JID says whether one is still in the room.
    // Anything else from outside the room is a bad request (XEP-0045 6.7).
    if (!sender) throw new StanzaError(ns === NS_PING ? 'not-acceptable' : 'bad-request', 'You are not in the room');
    if (ns === NS_PING && type === 'get' && sender.nick === nick) return room.result(stanza, from);
    if (!room.occupants.has(nick)) throw new StanzaError('item-not-found', 'No occupant has that nickname');
    throw new StanzaError('service-unavailable', 'The room does not pass IQs to occupants');
  }
  const actor = { role: sender?.role ?? 'none' as Role, affiliation: room.affiliationOf(from.bareString()) };
  if (type === 'get' && ns === NS_DISCO_INFO && payload!.attrs.node === 'x-roomuser-item') {
    // XEP-0045, discovering one's reserved nick: the nick the user registered here, if any.
    const registered = room.affiliations.get(from.bareString())?.nick;
    return room.result(stanza, from, xml('query', { xmlns: NS_DISCO_INFO, node: 'x-roomuser-item' },
      registered !== undefined ? xml('identity', { category: 'conference', type: 'text', name: registered }) : undefined));
  }
  if (type === 'get' && ns === NS_DISCO_INFO) return room.result(stanza, from, discoInfo(room));
  if (ns === NS_REGISTER) return register(room, stanza, payload!, from, actor.affiliation);
  if (type === 'get' && ns === NS_DISCO_ITEMS) {
    // The occupants, to those who could see them by joining: everyone for a public room (XEP-0045 6.5).
    const items = sender || (room.config.publicroom && !room.config.membersonly) ? room.everyone().map((o) => xml('item', { jid: `${room.jid}/${o.nick}` })) : [];
    return room.result(stanza, from, xml('query', { xmlns: NS_DISCO_ITEMS }, ...items));
  }
  if (type === 'get' && ns === NS_PING) return room.result(stanza, from);
  if (ns === NS_VCARD) {
    if (type === 'get') return room.result(stanza, from, roomVcardElement(room.vcard));
    if (actor.affiliation !== 'owner') throw new StanzaError('forbidden', 'Only owners set the room\'s vCard');
    setVcard(room, roomVcardText(payload!, room.host.maxVcardBytes));
    return room.result(stanza, from);
  }
  if (ns === NS_MAM && payload!.localName === 'query') return archiveQuery(room, stanza, payload!, from, sender);
  if (ns === NS_MUC_OWNER) {
    if (actor.affiliation !== 'owner') throw new StanzaError('forbidden', 'Only owners configure the room');
    if (type === 'get') return room.result(stanza, from, xml('query', { xmlns: NS_MUC_OWNER }, configForm(room.config, room.withAffiliation('owner'), room.withAffiliation('admin'))));
    return ownerSet(room, stanza, payload!, from);
  }
  if (ns === NS_MUC_ADMIN) {
    if (type === 'get') return room.result(stanza, from, adminList(room, payload!, actor));
    adminSet(room, payload!, actor, sender?.nick ?? '');
    return room.result(stanza, from);
  }
  throw new StanzaError('service-unavailable', 'The room does not answer that');
}

/**
 * Nick registration (XEP-0045 7.10), for the room's members (admins and owners too): the
 * form, or the nick registered; a nick nobody else registered or uses here; giving it up.
 */
function register(room: RoomState, stanza: Element, query: Element, from: JID, affiliation: Affiliation): void {
  const bare = from.bareString();
  if (affiliation === 'outcast') throw new StanzaError('forbidden', 'You are banned from this room');
  if (!atLeast(affiliation, 'member')) throw new StanzaError('not-allowed', 'Only members register a nickname with this room');
  const entry = room.affiliations.get(bare)!;
  if (stanza.attrs.type === 'get') return room.result(stanza, from, registrationQuery(entry.nick));
  const request = readRegistration(query);
  if ('nick' in request) {
    if (JID.tryParse(`${room.jid}/${request.nick}`)?.resource !== request.nick) throw new StanzaError('jid-malformed', 'That nickname cannot be used');
    checkReserved(room, request.nick, bare);
    const user = room.occupants.get(request.nick);
    if (user && user.bare !== bare) throw new StanzaError('conflict', 'That nickname is in use in the room');
    entry.nick = request.nick;
  } else if ('remove' in request) {
    entry.nick = undefined;
  }
  if (!('cancel' in request)) room.persist(true);
  room.result(stanza, from);
}

/** XEP-0313 queries to the room: for those who may read the room (occupants, or anyone in an open public room). */
function archiveQuery(room: RoomState, stanza: Element, query: Element, from: JID, sender: Occupant | undefined): void {
  if (!room.config.enablearchiving) throw new StanzaError('service-unavailable', 'The room keeps no archive');
  const open = room.config.publicroom && !room.config.membersonly && !room.config.passwordprotectedroom;
  if (!sender && !open && !atLeast(room.affiliationOf(from.bareString()), 'member')) throw new StanzaError('forbidden', 'Only occupants read the archive of this room');
  if (stanza.attrs.type === 'get') return room.result(stanza, from, queryFormElement());
  room.host.archive.query(room.jid, query, from.toString()).then(
    (fin) => room.result(stanza, from, fin),
    (err: unknown) => room.fail(stanza, from, err instanceof StanzaError ? err : new StanzaError('internal-server-error')),
  );
}

export function discoInfo(room: RoomState): Element {
  const c = room.config;
  const features = [
    NS_MUC, NS_OCCUPANT_ID, NS_SELF_PING,
    c.publicroom ? 'muc_public' : 'muc_hidden', c.persistentroom ? 'muc_persistent' : 'muc_temporary',
    c.membersonly ? 'muc_membersonly' : 'muc_open', c.moderatedroom ? 'muc_moderated' : 'muc_unmoderated',
    c.passwordprotectedroom ? 'muc_passwordprotected' : 'muc_unsecured', c.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
    ...(c.enablearchiving ? [NS_MAM, NS_SID] : []), NS_VCARD, NS_MUC_REGISTER,
  ];
  const field = (name: string, value: string, type?: string, label?: string): Element => xml('field', { var: name, type, label }, xml('value', null, value));
  return xml('query', { xmlns: NS_DISCO_INFO },
    xml('identity', { category: 'conference', type: 'text', name: c.roomname || room.name }),
    ...[NS_DISCO_INFO, ...features].map((f) => xml('feature', { var: f })),
    xml('x', { xmlns: NS_DATA, type: 'result' },
      field('FORM_TYPE', NS_MUC_ROOMINFO, 'hidden'),
      field('muc#roominfo_description', c.roomdesc, 'text-single', 'Description'),
      field('muc#roominfo_subject', room.subject, 'text-single', 'Subject'),
      field('muc#roominfo_occupants', String(room.occupants.size), 'text-single', 'Number of occupants'),
      field('muc#roomconfig_roomname', c.roomname, 'text-single', 'Name'),
      field('muc#roominfo_changesubject', c.changesubject ? '1' : '0', 'boolean', 'Occupants may change the subject'),
      field('muc#maxhistoryfetch', String(c.historylength), 'text-single', 'Maximum number of history messages'),
      // XEP-0486: absent while the room has no avatar.
      room.avatars.length ? xml('field', { var: 'muc#roominfo_avatarhash', type: 'text-multi', label: 'Avatar hash' }, ...room.avatars.map((h) => xml('value', null, h))) : undefined));
}
