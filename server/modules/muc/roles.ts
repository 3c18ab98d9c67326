// Affiliations (long-lived, by bare JID) and roles (for the time of a visit), XEP-0045 5,
// and the rules of who may change whose: the tables of 5.1.2 and 5.2.1 as functions that
// throw the error the XEP names.
import { StanzaError } from '../../xml/errors.ts';

export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';

export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
export const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];

const RANK: Record<Affiliation, number> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 };

/** The role an affiliation enters with (5.1.2): admins and owners moderate; a moderated room silences those without one. */
export function defaultRole(affiliation: Affiliation, moderated: boolean): Role {
  if (affiliation === 'owner' || affiliation === 'admin') return 'moderator';
  if (affiliation === 'member') return 'participant';
  if (affiliation === 'outcast') return 'none';
  return moderated ? 'visitor' : 'participant';
}

export function atLeast(affiliation: Affiliation, wanted: Affiliation): boolean {
  return RANK[affiliation] >= RANK[wanted];
}

/** May an occupant of `actor` role and affiliation give `target` (of that affiliation and role) the role `role`? */
export function checkRoleChange(actor: { role: Role; affiliation: Affiliation }, target: { role: Role; affiliation: Affiliation }, role: Role): void {
  if (actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators change roles');
  // Nobody takes a role from an admin or owner, nor from one of higher affiliation (8.2, 8.4, 8.7).
  if (role !== 'moderator' && (atLeast(target.affiliation, 'admin') || RANK[target.affiliation] > RANK[actor.affiliation])) {
    throw new StanzaError('not-allowed', `An occupant of affiliation ${target.affiliation} keeps the role`);
  }
  // Granting or revoking moderation is for admins and owners (8.6, 8.7).
  if ((role === 'moderator' || target.role === 'moderator') && !atLeast(actor.affiliation, 'admin')) {
    throw new StanzaError('forbidden', 'Only admins and owners grant or revoke moderation');
  }
}

/** May `actor` give `target` (whose affiliation is `from`) the affiliation `to`? */
export function checkAffiliationChange(actor: Affiliation, from: Affiliation, to: Affiliation): void {
  if (!atLeast(actor, 'admin')) throw new StanzaError('forbidden', 'Only admins and owners change affiliations');
  if (actor === 'owner') return;
  // An admin manages members and outcasts, never admins or owners (9.x, 10.3 to 10.8).
  if (to === 'admin' || to === 'owner') throw new StanzaError('forbidden', 'Only owners grant admin or owner status');
  if (from === 'admin' || from === 'owner') throw new StanzaError('not-allowed', 'Only owners change the affiliation of an admin or owner');
}

/** Who may read the list of one affiliation (9.5, 10.5, 10.8 and the getmemberlist option). */
export function checkAffiliationList(actor: Affiliation, list: Affiliation, memberListOpen: boolean): void {
  if (atLeast(actor, 'admin')) return;
  if (list === 'member' && memberListOpen && actor === 'member') return;
  throw new StanzaError('forbidden', `The ${list} list is for admins and owners`);
}
