// A room's state, and the few things every part of the room does with it: send to occupants,
// answer or refuse a stanza, store a change, tell the host. It is apart from Room (room.ts),
// the room to the rest of the module, so that the functions that handle each kind of stanza
// (room-presence.ts, room-messages.ts, room-affiliations.ts, room-owner.ts, room-iq.ts) can
// all work on the same state without it being part of Room's public face.
import { createHash } from 'node:crypto';
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError, errorReply } from '../../xml/errors.ts';
import { RoomHistory } from './history.ts';
import type { RoomConfig } from './room-config.ts';
import type { RoomHost } from './room-output.ts';
import type { Affiliation, Role } from './roles.ts';
import type { StoredAffiliation, StoredRoom } from '../../storage/types.ts';
import { avatarHashes } from './room-vcard.ts';

export interface Occupant {
  nick: string;
  /** Bare JID of the user. */
  bare: string;
  role: Role;
  /** Full JIDs of the user's sessions in the room under this nick, with their last presence. */
  sessions: Map<string, Element>;
  occupantId: string;
}

export interface AffiliationEntry {
  affiliation: Exclude<Affiliation, 'none'>;
  reason: string;
  /** The nick registered with the room (XEP-0045 7.10), reserved for this user alone. */
  nick?: string;
}

/** Status codes (XEP-0045 15.6). */
export const SELF = '110';
export const LOGGED = '170';
export const NON_ANONYMOUS = '100';
export const CONFIG_CHANGED = '104';
export const CREATED = '201';
export const BANNED = '301';
export const NICK_CHANGED = '303';
export const KICKED = '307';
export const AFFILIATION_LOST = '321';
export const MEMBERS_ONLY = '322';
export const SHUTDOWN = '332';
export const ERROR_KICK = '333';

export class RoomState {
  readonly jid: string;
  config: RoomConfig;
  /** Created and not yet configured by its owner (XEP-0045 10.1): only the owner may enter. */
  locked: boolean;
  subject = '';
  subjectBy = '';
  /** When the room was created (a persistent one: first stored). */
  readonly created: Date;
  readonly affiliations = new Map<string, AffiliationEntry>();
  readonly occupants = new Map<string, Occupant>();
  /** Full JID of an occupant's session -> its nick. */
  readonly bySession = new Map<string, string>();
  readonly history: RoomHistory;
  destroyed = false;
  /** The room's vCard (XEP-0054) as text, null for none; and the hashes of its photos, kept for disco#info. */
  vcard: string | null = null;
  avatars: string[] = [];

  constructor(
    readonly name: string,
    readonly service: string,
    config: RoomConfig,
    readonly host: RoomHost,
    opts: { locked: boolean; stored?: StoredRoom },
  ) {
    this.jid = `${name}@${service}`;
    this.config = config;
    this.locked = opts.locked;
    this.created = opts.stored?.createdAt ?? host.now();
    this.history = new RoomHistory(Math.min(config.historylength, host.maxHistory));
    if (opts.stored) {
      this.subject = opts.stored.subject;
      this.subjectBy = opts.stored.subjectBy;
      this.vcard = opts.stored.vcard ?? null;
      this.avatars = avatarHashes(this.vcard);
      for (const a of opts.stored.affiliations) this.affiliations.set(a.jid, { affiliation: a.affiliation, reason: a.reason, nick: a.nick ?? undefined });
    }
  }

  affiliationOf(bare: string): Affiliation {
    return this.affiliations.get(bare)?.affiliation ?? 'none';
  }

  /** Bare JIDs of one affiliation. */
  withAffiliation(affiliation: Affiliation): string[] {
    return [...this.affiliations].filter(([, a]) => a.affiliation === affiliation).map(([jid]) => jid);
  }

  /** The room's state as the store keeps it. */
  stored(): Omit<StoredRoom, 'affiliations'> {
    return { name: this.name, config: { ...this.config }, subject: this.subject, subjectBy: this.subjectBy, vcard: this.vcard };
  }

  storedAffiliations(): StoredAffiliation[] {
    return [...this.affiliations].map(([jid, a]) => ({ jid, affiliation: a.affiliation, reason: a.reason, ...(a.nick !== undefined ? { nick: a.nick } : {}) }));
  }

  persist(affiliations = false): void {
    this.touch();
    if (!this.config.persistentroom || this.locked) return;
    this.host.store.saveRoom(this.stored());
    if (affiliations) this.host.store.saveAffiliations(this.name, this.storedAffiliations());
  }

  /**
   * Gives a bare JID an affiliation. A registered nick stays with a member, admin or owner
   * and goes with the membership (a ban, or 'none').
   */
  affiliate(bare: string, affiliation: Affiliation, reason: string): void {
    const nick = this.affiliations.get(bare)?.nick;
    if (affiliation === 'none') this.affiliations.delete(bare);
    else this.affiliations.set(bare, { affiliation, reason, nick: affiliation === 'outcast' ? undefined : nick });
  }

  /** The bare JID that registered `nick` here, if any. */
  reservedBy(nick: string): string | undefined {
    for (const [jid, a] of this.affiliations) if (a.nick === nick) return jid;
    return undefined;
  }

  touch(): void {
    if (!this.destroyed) this.host.changed(this.name);
  }

  /** The room is no more: destroyed, or temporary and empty. A room of the same name later starts a new archive. */
  close(): void {
    this.destroyed = true;
    this.host.archive.delete(this.jid);
    this.host.closed(this.name);
  }

  // ---- output ----

  fail(stanza: Element, from: JID, err: StanzaError): void {
    if (stanza.attrs.type === 'error') return;
    const reply = errorReply(stanza, err);
    reply.attrs.from = stanza.attrs.to ?? this.jid;
    reply.attrs.to = from.toString();
    this.host.output.route(reply);
  }

  result(stanza: Element, from: JID, payload?: Element): void {
    this.host.output.route(xml('iq', { type: 'result', id: stanza.attrs.id, from: stanza.attrs.to, to: from.toString() }, payload));
  }

  send(stanza: Element, to: Occupant | readonly string[]): void {
    const jids = Array.isArray(to) ? to : [...(to as Occupant).sessions.keys()];
    if (jids.length) this.host.output.toOccupants(stanza, jids);
  }

  // ---- occupants ----

  get empty(): boolean {
    return this.occupants.size === 0;
  }

  everyone(): Occupant[] {
    return [...this.occupants.values()];
  }

  occupantOf(from: JID): Occupant | undefined {
    const nick = this.bySession.get(from.toString());
    return nick === undefined ? undefined : this.occupants.get(nick);
  }

  occupantId(bare: string): string {
    return createHash('sha256').update(`${this.config.occupantIdSalt}\0${bare}`).digest('base64').slice(0, 24);
  }

  /** Full JIDs of every occupant's sessions. */
  sessionJids(): string[] {
    return [...this.bySession.keys()];
  }
}

/** The FORM_TYPE of a data form, if it says one. */
export function formType(form: Element): string | undefined {
  return form.getChildren('field').find((f) => f.attrs.var === 'FORM_TYPE')?.getChildText('value');
}
