// Administration of a room's affiliations and roles (XEP-0045 8 and 9, the muc#admin
// namespace): the lists moderators and admins ask for, the changes they make, and what
// occupants are told of a change. Apart from room.ts because an owner's configuration form,
// an operator's change and a deleted account all end here too. The rules of who may change
// what are roles.ts's.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_MUC_ADMIN } from './namespaces.ts';
import {
  AFFILIATIONS, ROLES, checkAffiliationChange, checkAffiliationList, checkRoleChange, defaultRole,
  type Affiliation, type Role,
} from './roles.ts';
import { broadcastPresence, removeOccupant } from './room-presence.ts';
import { AFFILIATION_LOST, BANNED, KICKED, type Occupant, type RoomState } from './room-state.ts';

/** Re-announces an occupant whose role or affiliation changed. */
export function refresh(room: RoomState, occupant: Occupant, extra: { actor?: string; reason?: string } = {}): void {
  const affiliation = room.affiliationOf(occupant.bare);
  const wanted = defaultRole(affiliation, room.config.moderatedroom);
  // A visitor given voice keeps it while no affiliation says otherwise; an affiliation change resets the role.
  occupant.role = wanted;
  broadcastPresence(room, occupant, extra);
}

export function setRole(room: RoomState, target: Occupant, role: Role, actor: string, reason: string): void {
  if (role === 'none') return removeOccupant(room, target, [KICKED], { actor, reason });
  target.role = role;
  broadcastPresence(room, target, { actor, reason });
}

export function adminList(room: RoomState, query: Element, actor: { role: Role; affiliation: Affiliation }): Element {
  const item = query.getChild('item');
  const affiliation = item?.attrs.affiliation as Affiliation | undefined;
  const role = item?.attrs.role as Role | undefined;
  const out = xml('query', { xmlns: NS_MUC_ADMIN });
  if (affiliation && AFFILIATIONS.includes(affiliation) && affiliation !== 'none') {
    checkAffiliationList(actor.affiliation, affiliation, room.config.getmemberlist);
    for (const [jid, a] of room.affiliations) {
      if (a.affiliation !== affiliation) continue;
      const nick = a.nick ?? room.everyone().find((o) => o.bare === jid)?.nick;
      out.append(xml('item', { affiliation, jid, nick }, a.reason ? xml('reason', null, a.reason) : undefined));
    }
    return out;
  }
  if (role && ROLES.includes(role) && role !== 'none') {
    if (actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators list roles');
    for (const o of room.everyone()) {
      if (o.role === role) out.append(xml('item', { role, nick: o.nick, jid: [...o.sessions.keys()][0], affiliation: room.affiliationOf(o.bare) }));
    }
    return out;
  }
  throw new StanzaError('bad-request', 'Ask for one affiliation or role');
}

/** Changes of roles (by nick) and affiliations (by JID), all checked before any is applied. */
export function adminSet(room: RoomState, query: Element, actor: { role: Role; affiliation: Affiliation }, actorNick: string): void {
  const changes: (() => void)[] = [];
  const owners = new Set(room.withAffiliation('owner'));
  for (const item of query.getChildren('item')) {
    const reason = item.getChildText('reason') ?? '';
    const role = item.attrs.role as Role | undefined;
    const affiliation = item.attrs.affiliation as Affiliation | undefined;
    if (affiliation !== undefined) {
      if (!AFFILIATIONS.includes(affiliation)) throw new StanzaError('bad-request', `No affiliation ${affiliation}`);
      const jid = item.attrs.jid !== undefined ? JID.tryParse(item.attrs.jid) : room.occupants.get(item.attrs.nick ?? '') ? JID.tryParse(room.occupants.get(item.attrs.nick!)!.bare) : null;
      if (!jid) throw new StanzaError(item.attrs.jid !== undefined ? 'jid-malformed' : 'bad-request', 'An affiliation is given to a JID');
      const bare = jid.bareString();
      checkAffiliationChange(actor.affiliation, room.affiliationOf(bare), affiliation);
      if (affiliation === 'owner') owners.add(bare);
      else owners.delete(bare);
      if (owners.size === 0) throw new StanzaError('conflict', 'A room keeps at least one owner');
      changes.push(() => setAffiliation(room, bare, affiliation, actorNick, reason));
    } else if (role !== undefined) {
      if (!ROLES.includes(role)) throw new StanzaError('bad-request', `No role ${role}`);
      const target = room.occupants.get(item.attrs.nick ?? '');
      if (!target) throw new StanzaError(item.attrs.nick ? 'item-not-found' : 'bad-request', 'A role is given to an occupant by nick');
      checkRoleChange(actor, { role: target.role, affiliation: room.affiliationOf(target.bare) }, role);
      changes.push(() => { if (room.occupants.get(target.nick) === target) setRole(room, target, role, actorNick, reason); });
    } else {
      throw new StanzaError('bad-request', 'An item changes a role or an affiliation');
    }
  }
  for (const change of changes) change();
  room.persist(true);
}

function setAffiliation(room: RoomState, bare: string, affiliation: Affiliation, actor: string, reason: string): void {
  room.affiliate(bare, affiliation, reason);
  for (const occupant of room.everyone()) {
    if (occupant.bare !== bare) continue;
    if (affiliation === 'outcast') removeOccupant(room, occupant, [BANNED], { affiliation, actor, reason });
    else if (room.config.membersonly && affiliation === 'none') removeOccupant(room, occupant, [AFFILIATION_LOST], { affiliation, actor, reason });
    else refresh(room, occupant, { actor, reason });
  }
}

/** An account was deleted: it keeps no affiliation here. */
export function forget(room: RoomState, bare: string): void {
  if (!room.affiliations.delete(bare)) return;
  room.touch();
  for (const occupant of room.everyone()) if (occupant.bare === bare) refresh(room, occupant);
}
