// What a room's owner does to the room as a whole (XEP-0045 10, the muc#owner namespace, and
// the room's vCard): submitting its configuration form, setting its avatar, destroying it;
// and what occupants are told of each. Apart from room.ts because an operator's changes (the
// admin API, room-admin.ts) take this same path, with an owner's rights. The options and
// their form are room-config.ts's.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_DATA, NS_MUC_ROOMCONFIG, NS_MUC_USER, NS_VCARD_UPDATE } from './namespaces.ts';
import { applyConfigForm } from './room-config.ts';
import { atLeast } from './roles.ts';
import { refresh } from './room-affiliations.ts';
import { broadcastPresence, removeOccupant } from './room-presence.ts';
import { CONFIG_CHANGED, MEMBERS_ONLY, formType, type RoomState } from './room-state.ts';
import { avatarHashes } from './room-vcard.ts';

export function ownerSet(room: RoomState, stanza: Element, query: Element, from: JID): void {
  const destroy = query.getChild('destroy');
  if (destroy) {
    destroyRoom(room, destroy);
    return room.result(stanza, from);
  }
  const form = query.getChild('x', NS_DATA);
  if (!form) throw new StanzaError('bad-request', 'An owner query carries a form or a destroy');
  if (form.attrs.type === 'cancel') {
    // Cancelling the first configuration of a new room gives it up (XEP-0045 10.1.3).
    room.result(stanza, from);
    if (room.locked) destroyRoom(room, xml('destroy'));
    return;
  }
  if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Submit the configuration form');
  applyForm(room, form);
  room.result(stanza, from);
}

/** A submitted configuration form: checked first, then applied, and everyone told. */
export function applyForm(room: RoomState, form: Element): void {
  const formTypeValue = formType(form);
  if (formTypeValue !== undefined && formTypeValue !== NS_MUC_ROOMCONFIG) throw new StanzaError('bad-request', 'That is not a room configuration form');
  const change = applyConfigForm(form, room.config, room.host.maxHistory);
  const wasPersistent = room.config.persistentroom;
  const becameMembersOnly = change.config.membersonly && !room.config.membersonly;
  if (change.owners) {
    const owners = change.owners.map(bareOrFail);
    if (owners.length === 0) throw new StanzaError('not-acceptable', 'A room keeps at least one owner');
    for (const jid of room.withAffiliation('owner')) if (!owners.includes(jid)) room.affiliations.delete(jid);
    for (const jid of owners) room.affiliate(jid, 'owner', '');
  }
  if (change.admins) {
    const admins = change.admins.map(bareOrFail);
    for (const jid of room.withAffiliation('admin')) if (!admins.includes(jid)) room.affiliations.delete(jid);
    for (const jid of admins) if (room.affiliationOf(jid) !== 'owner') room.affiliate(jid, 'admin', '');
  }
  room.config = change.config;
  room.history.setLimit(Math.min(room.config.historylength, room.host.maxHistory));
  const wasLocked = room.locked;
  room.locked = false;
  if (wasPersistent && !room.config.persistentroom) room.host.store.deleteRoom(room.name);
  room.persist(true);
  if (change.owners || change.admins) for (const o of room.everyone()) refresh(room, o);
  if (becameMembersOnly) {
    for (const o of room.everyone()) if (!atLeast(room.affiliationOf(o.bare), 'member')) removeOccupant(room, o, [MEMBERS_ONLY]);
  }
  if (!wasLocked) configChanged(room);
  if (room.empty && !room.config.persistentroom) room.close();
}

/** Tells every occupant the room's configuration changed (status 104), so that clients read its disco#info again. */
function configChanged(room: RoomState): void {
  room.send(xml('message', { type: 'groupchat', from: room.jid }, xml('x', { xmlns: NS_MUC_USER }, xml('status', { code: CONFIG_CHANGED }))), room.sessionJids());
}

/**
 * An owner set the room's vCard. A new avatar is announced as XEP-0486 asks (104) and,
 * for the clients that look for it there, as a XEP-0153 presence from the room's bare JID.
 */
export function setVcard(room: RoomState, text: string | null): void {
  const before = room.avatars;
  room.vcard = text;
  room.avatars = avatarHashes(text);
  room.persist();
  if (before.join(' ') === room.avatars.join(' ')) return;
  const photo = room.avatars[0];
  room.send(xml('presence', { from: room.jid }, xml('x', { xmlns: NS_VCARD_UPDATE }, photo ? xml('photo', null, photo) : xml('photo'))), room.sessionJids());
  configChanged(room);
}

/** Destroys the room (XEP-0045 10.9): everyone leaves, told where to go instead and why. */
export function destroyRoom(room: RoomState, destroy: Element): void {
  const alternate = JID.tryParse(destroy.attrs.jid);
  const extra = xml('destroy', { jid: alternate?.toString() }, destroy.getChildText('reason') !== undefined ? xml('reason', null, destroy.getChildText('reason')!) : undefined,
    destroy.getChildText('password') !== undefined ? xml('password', null, destroy.getChildText('password')!) : undefined);
  for (const occupant of room.everyone()) {
    broadcastPresence(room, occupant, { type: 'unavailable', role: 'none', affiliation: 'none', extra });
  }
  room.occupants.clear();
  room.bySession.clear();
  if (room.config.persistentroom) room.host.store.deleteRoom(room.name);
  room.close();
}

function bareOrFail(value: string): string {
  const jid = JID.tryParse(value);
  if (!jid) throw new StanzaError('jid-malformed', `Not a JID: ${value}`);
  return jid.bareString();
}
