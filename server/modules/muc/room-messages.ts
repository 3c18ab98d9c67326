// The messages a room takes (XEP-0045 7.4 to 7.9, 7.13, 8.6): groupchat messages to every
// occupant (kept in the history, and the archive when there is one), the subject, private
// messages between occupants, mediated invitations and declines, voice requests. Apart from
// room.ts because it is what a room does most, and reads best on its own.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_SID } from '../mam/stanza-id.ts';
import { formValues } from '../pep/data-form.ts';
import { NS_DATA, NS_MUC_REQUEST, NS_MUC_USER, NS_OCCUPANT_ID } from './namespaces.ts';
import { atLeast } from './roles.ts';
import { setRole } from './room-affiliations.ts';
import { removeOccupant } from './room-presence.ts';
import { ERROR_KICK, formType, type Occupant, type RoomState } from './room-state.ts';

/** A message to the room or to one of its occupants' nicks. */
export function message(room: RoomState, stanza: Element, from: JID, nick: string): void {
  const type = stanza.attrs.type ?? 'normal';
  const sender = room.occupantOf(from);
  if (type === 'error') {
    // An occupant's client refused what the room sent it: it is gone (XEP-0045 status 333).
    if (sender) removeOccupant(room, sender, [ERROR_KICK]);
    return;
  }
  if (nick) return privateMessage(room, stanza, sender, nick);
  const user = stanza.getChild('x', NS_MUC_USER);
  if (type !== 'groupchat' && user?.getChild('decline')) return decline(room, user.getChild('decline')!, from);
  if (!sender) throw new StanzaError('not-acceptable', 'Only occupants may send to the room');
  if (type === 'groupchat') return groupchat(room, stanza, sender);
  if (user?.getChildren('invite').length) return invite(room, user, sender, from);
  const form = stanza.getChild('x', NS_DATA);
  if (form && formType(form) === NS_MUC_REQUEST) return voiceRequest(room, form, sender);
  throw new StanzaError('bad-request', 'A message to the room is a groupchat message, an invitation or a voice request');
}

function groupchat(room: RoomState, stanza: Element, sender: Occupant): void {
  if (sender.role === 'visitor' || sender.role === 'none') throw new StanzaError('forbidden', 'Visitors have no voice in this room');
  const subject = stanza.getChild('subject');
  const out = xml('message', { type: 'groupchat', from: `${room.jid}/${sender.nick}`, id: stanza.attrs.id });
  // Nobody but the room says what its archive calls a message, nor who sent it (XEP-0359, XEP-0421).
  for (const c of stanza.getChildElements()) if (c.getNS() !== NS_OCCUPANT_ID && !(c.is('stanza-id', NS_SID) && c.attrs.by === room.jid)) out.append(c.clone());
  out.append(xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: sender.occupantId }));
  if (subject && !stanza.getChild('body')) {
    if (sender.role !== 'moderator' && !room.config.changesubject) throw new StanzaError('forbidden', 'Only moderators change the subject of this room');
    room.subject = subject.getText();
    room.subjectBy = sender.nick;
    room.persist();
  } else {
    const at = room.host.now();
    if (room.config.enablearchiving) out.append(xml('stanza-id', { xmlns: NS_SID, id: room.host.archive.add(room.jid, sender.nick, out, at), by: room.jid }));
    room.history.add(out, at);
  }
  // One call for every session of every occupant: the output crosses to each other node once.
  room.send(out, room.everyone().flatMap((o) => [...o.sessions.keys()]));
}

function privateMessage(room: RoomState, stanza: Element, sender: Occupant | undefined, nick: string): void {
  if (!sender) throw new StanzaError('not-acceptable', 'Only occupants send private messages in the room');
  if (stanza.attrs.type === 'groupchat') throw new StanzaError('bad-request', 'A groupchat message goes to the room, not to an occupant');
  if (!room.config.allowpm) throw new StanzaError('forbidden', 'Private messages are not allowed in this room');
  const target = room.occupants.get(nick);
  if (!target) throw new StanzaError('item-not-found', 'No occupant has that nickname');
  const out = xml('message', { type: stanza.attrs.type, id: stanza.attrs.id, from: `${room.jid}/${sender.nick}` });
  for (const c of stanza.getChildElements()) if (c.getNS() !== NS_OCCUPANT_ID && c.getNS() !== NS_MUC_USER) out.append(c.clone());
  out.append(xml('x', { xmlns: NS_MUC_USER }), xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: sender.occupantId }));
  room.send(out, target);
}

/** Mediated invitations (XEP-0045 7.8.2); in a members-only room the invitee becomes a member. */
function invite(room: RoomState, user: Element, sender: Occupant, from: JID): void {
  const affiliation = room.affiliationOf(sender.bare);
  if (room.config.membersonly && !room.config.allowinvites && !atLeast(affiliation, 'admin')) {
    throw new StanzaError('forbidden', 'Only admins and owners invite to this room');
  }
  const invites = user.getChildren('invite').map((invite) => {
    const to = JID.tryParse(invite.attrs.to);
    if (!to) throw new StanzaError('jid-malformed', 'An invitation needs the address of the invitee');
    return { to, reason: invite.getChildText('reason') };
  });
  let added = false;
  for (const { to, reason } of invites) {
    const x = xml('x', { xmlns: NS_MUC_USER }, xml('invite', { from: from.bareString() }, reason !== undefined ? xml('reason', null, reason) : undefined));
    if (room.config.passwordprotectedroom) x.append(xml('password', null, room.config.roomsecret));
    room.host.output.route(xml('message', { from: room.jid, to: to.toString() }, x,
      xml('body', null, `${from.bareString()} invites you to the room ${room.jid}${reason ? `: ${reason}` : ''}`)));
    if (room.config.membersonly && room.affiliationOf(to.bareString()) === 'none') {
      room.affiliate(to.bareString(), 'member', '');
      added = true;
    }
  }
  if (added) room.persist(true);
}

function decline(room: RoomState, decline: Element, from: JID): void {
  const to = JID.tryParse(decline.attrs.to);
  if (!to) throw new StanzaError('jid-malformed', 'A decline names the inviter');
  const reason = decline.getChildText('reason');
  room.host.output.route(xml('message', { from: room.jid, to: to.toString() },
    xml('x', { xmlns: NS_MUC_USER }, xml('decline', { from: from.bareString() }, reason !== undefined ? xml('reason', null, reason) : undefined))));
}

/** A visitor asks for voice (XEP-0045 7.13), or a moderator answers such a request (8.6). */
function voiceRequest(room: RoomState, form: Element, sender: Occupant): void {
  const values = formValues(form);
  if (form.attrs.type === 'submit' && values.has('muc#request_allow')) {
    if (sender.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators answer voice requests');
    const allow = ['1', 'true'].includes(values.get('muc#request_allow') ?? '');
    const target = room.occupants.get(values.get('muc#roomnick') ?? '');
    if (allow && target && target.role === 'visitor') setRole(room, target, 'participant', sender.nick, '');
    return;
  }
  if (sender.role !== 'visitor') return;
  const request = xml('x', { xmlns: NS_DATA, type: 'form' },
    xml('title', null, 'Voice request'),
    xml('instructions', null, 'To approve this request for voice, select "Grant voice" and submit the form.'),
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, NS_MUC_REQUEST)),
    xml('field', { var: 'muc#role', type: 'list-single', label: 'Requested role' }, xml('value', null, 'participant')),
    xml('field', { var: 'muc#jid', type: 'jid-single', label: 'User ID' }, xml('value', null, [...sender.sessions.keys()][0]!)),
    xml('field', { var: 'muc#roomnick', type: 'text-single', label: 'Room nickname' }, xml('value', null, sender.nick)),
    xml('field', { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice' }, xml('value', null, 'false')));
  for (const moderator of room.everyone()) {
    if (moderator.role === 'moderator') room.send(xml('message', { from: room.jid }, request.clone()), moderator);
  }
}
