// One group chat room (XEP-0045): all of its state, and every stanza addressed to it or to
// one of its occupants, through one entry point, handle(stanza, from). What it says goes
// out through RoomOutput only, what it keeps through RoomStore: the room knows nothing of
// sessions, nodes or SQL, so that it can run wherever its owner node is.
import { createHash } from 'node:crypto';
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError, errorReply } from '../../xml/errors.ts';
import { NS_MAM } from '../mam/prefs.ts';
import { queryFormElement } from '../mam/query-form.ts';
import { NS_SID } from '../mam/stanza-id.ts';
import { formValues } from '../pep/data-form.ts';
import { RoomHistory, historyRequest } from './history.ts';
import {
  NS_DATA, NS_DELAY, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_REQUEST,
  NS_MUC_ROOMCONFIG, NS_MUC_ROOMINFO, NS_MUC_USER, NS_OCCUPANT_ID, NS_PING, NS_SELF_PING,
} from './namespaces.ts';
import { applyConfigForm, configForm, type RoomConfig } from './room-config.ts';
import type { RoomHost } from './room-output.ts';
import {
  AFFILIATIONS, ROLES, checkAffiliationChange, checkAffiliationList, checkRoleChange, defaultRole, atLeast,
  type Affiliation, type Role,
} from './roles.ts';
import type { StoredAffiliation, StoredRoom } from '../../storage/types.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import type { OccupantSnapshot, RoomSnapshot } from './room-snapshot.ts';

export interface Occupant {
  nick: string;
  /** Bare JID of the user. */
  bare: string;
  role: Role;
  /** Full JIDs of the user's sessions in the room under this nick, with their last presence. */
  sessions: Map<string, Element>;
  occupantId: string;
}

interface AffiliationEntry {
  affiliation: Exclude<Affiliation, 'none'>;
  reason: string;
}

/** Status codes (XEP-0045 15.6). */
const SELF = '110';
const LOGGED = '170';
const NON_ANONYMOUS = '100';
const CONFIG_CHANGED = '104';
const CREATED = '201';
const BANNED = '301';
const NICK_CHANGED = '303';
const KICKED = '307';
const AFFILIATION_LOST = '321';
const MEMBERS_ONLY = '322';
const SHUTDOWN = '332';
const ERROR_KICK = '333';

/** The payload of a client's presence that occupants see: the MUC elements are the room's to write. */
function presencePayload(presence: Element): Element[] {
  return presence.getChildElements().filter((c) => {
    const ns = c.getNS();
    return ns !== NS_MUC && ns !== NS_MUC_USER && ns !== NS_OCCUPANT_ID && c.name !== 'error';
  }).map((c) => c.clone());
}

export class Room {
  readonly jid: string;
  config: RoomConfig;
  /** Created and not yet configured by its owner (XEP-0045 10.1): only the owner may enter. */
  locked: boolean;
  subject = '';
  subjectBy = '';
  /** When the room was created (a persistent one: first stored). */
  readonly created: Date;
  private readonly affiliations = new Map<string, AffiliationEntry>();
  readonly occupants = new Map<string, Occupant>();
  /** Full JID of an occupant's session -> its nick. */
  private readonly bySession = new Map<string, string>();
  private readonly history: RoomHistory;
  private destroyed = false;

  constructor(
    readonly name: string,
    readonly service: string,
    config: RoomConfig,
    private readonly host: RoomHost,
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
      for (const a of opts.stored.affiliations) this.affiliations.set(a.jid, { affiliation: a.affiliation, reason: a.reason });
    }
  }

  /** The room another node held, as its snapshot says, occupants in without a word to them. */
  static fromSnapshot(snapshot: RoomSnapshot, service: string, host: RoomHost): Room {
    const room = new Room(snapshot.name, service, snapshot.config, host, {
      locked: snapshot.locked,
      stored: { name: snapshot.name, config: { ...snapshot.config }, subject: snapshot.subject, subjectBy: snapshot.subjectBy, affiliations: snapshot.affiliations },
    });
    for (const entry of snapshot.history ?? []) room.history.add(parseXml(entry.message), new Date(entry.at));
    room.readmit(snapshot.occupants);
    return room;
  }

  /** Everything another node needs to go on with the room; history only when asked for. */
  snapshot(withHistory: boolean): RoomSnapshot {
    return {
      ...this.stored(),
      config: { ...this.config },
      locked: this.locked,
      affiliations: this.storedAffiliations(),
      occupants: this.everyone().map((o) => ({ nick: o.nick, bare: o.bare, role: o.role, sessions: [...o.sessions].map(([jid, p]) => [jid, p.toString()]) })),
      history: withHistory ? this.history.all().map((e) => ({ message: e.message.toString(), at: e.at.toISOString() })) : undefined,
    };
  }

  /**
   * Takes in occupants that were in the room while another node held it, silently: they and
   * the others saw the joins then. A nick another user holds here now keeps its holder.
   */
  readmit(occupants: readonly OccupantSnapshot[]): void {
    for (const o of occupants) {
      const taken = this.occupants.get(o.nick);
      if (taken && taken.bare !== o.bare) continue;
      const occupant = taken ?? { nick: o.nick, bare: o.bare, role: o.role, sessions: new Map<string, Element>(), occupantId: this.occupantId(o.bare) };
      for (const [jid, presence] of o.sessions) {
        if (this.bySession.has(jid)) continue;
        occupant.sessions.set(jid, parseXml(presence));
        this.bySession.set(jid, o.nick);
      }
      if (occupant.sessions.size) this.occupants.set(o.nick, occupant);
    }
    this.touch();
  }

  /**
   * The room was rebuilt without its history (its node died): an archived room takes its
   * newest messages back from the archive, as occupants got them, before any kept since.
   */
  reloadHistory(): void {
    const limit = Math.min(this.config.historylength, this.host.maxHistory);
    if (!this.config.enablearchiving || limit === 0) return;
    void this.host.archive.recent(this.jid, limit).then((entries) => {
      if (this.destroyed) return;
      // Messages this node took since are archived too: they are in the history already.
      const kept = new Set(this.history.all().map((e) => e.message.getChild('stanza-id', NS_SID)?.attrs.id));
      this.history.prepend(entries.filter((e) => !kept.has(e.id)).map((e) => {
        e.message.append(xml('stanza-id', { xmlns: NS_SID, id: e.id, by: this.jid }));
        return { message: e.message, at: e.at };
      }));
    });
  }

  /** Full JIDs of every occupant's sessions. */
  sessionJids(): string[] {
    return [...this.bySession.keys()];
  }

  /** The one entry point: a stanza to the room or one of its occupants, from `from` (a full JID). */
  handle(stanza: Element, from: JID): void {
    if (this.destroyed) return this.fail(stanza, from, new StanzaError('item-not-found', 'The room is gone'));
    const nick = JID.tryParse(stanza.attrs.to)?.resource ?? '';
    try {
      if (stanza.name === 'presence') this.presence(stanza, from, nick);
      else if (stanza.name === 'message') this.message(stanza, from, nick);
      else if (stanza.name === 'iq') this.iq(stanza, from, nick);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      this.fail(stanza, from, err);
    }
  }

  /** The first presence of the room's creator, who owns it (setOwner) and enters with status 201. */
  open(stanza: Element, from: JID): void {
    try {
      this.join(stanza, from, JID.parse(stanza.attrs.to!).resource, true);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      this.fail(stanza, from, err);
      this.close();
    }
  }

  /** A session ended without saying so (its node died): it leaves as if it had sent unavailable. */
  sessionGone(fullJid: string): void {
    const nick = this.bySession.get(fullJid);
    if (nick === undefined) return;
    const occupant = this.occupants.get(nick)!;
    // Nothing goes to the session that is gone; the others hear the user left once no session is left.
    occupant.sessions.delete(fullJid);
    this.bySession.delete(fullJid);
    if (occupant.sessions.size === 0) this.removeOccupant(occupant, []);
    else this.touch();
  }

  /** The service is going away: every occupant is told (332), nothing is kept of the visit. */
  shutdown(): void {
    for (const occupant of [...this.occupants.values()]) this.removeOccupant(occupant, [SHUTDOWN]);
  }

  get empty(): boolean {
    return this.occupants.size === 0;
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
    return { name: this.name, config: { ...this.config }, subject: this.subject, subjectBy: this.subjectBy };
  }

  private storedAffiliations(): StoredAffiliation[] {
    return [...this.affiliations].map(([jid, a]) => ({ jid, affiliation: a.affiliation, reason: a.reason }));
  }

  private persist(affiliations = false): void {
    this.touch();
    if (!this.config.persistentroom || this.locked) return;
    this.host.store.saveRoom(this.stored());
    if (affiliations) this.host.store.saveAffiliations(this.name, this.storedAffiliations());
  }

  /** Affiliations by bare JID, with the reason given for each. */
  affiliationList(): StoredAffiliation[] {
    return this.storedAffiliations();
  }

  /**
   * An operator's configuration or affiliation change (the admin API): it takes the path of
   * an owner's IQ, with an owner's rights, so occupants are told alike (104, affiliation
   * changes), and it throws the StanzaError an owner would get.
   */
  configure(form: Element): void {
    this.applyForm(form);
  }

  changeAffiliations(query: Element): void {
    this.adminSet(query, { role: 'moderator', affiliation: 'owner' }, '');
  }

  /** Takes an affiliation for a room being created: its creator owns it. */
  setOwner(bare: string): void {
    this.affiliations.set(bare, { affiliation: 'owner', reason: '' });
  }

  private touch(): void {
    if (!this.destroyed) this.host.changed(this.name);
  }

  // ---- output ----

  private fail(stanza: Element, from: JID, err: StanzaError): void {
    if (stanza.attrs.type === 'error') return;
    const reply = errorReply(stanza, err);
    reply.attrs.from = stanza.attrs.to ?? this.jid;
    reply.attrs.to = from.toString();
    this.host.output.route(reply);
  }

  private send(stanza: Element, to: Occupant | readonly string[]): void {
    const jids = Array.isArray(to) ? to : [...(to as Occupant).sessions.keys()];
    if (jids.length) this.host.output.toOccupants(stanza, jids);
  }

  private everyone(): Occupant[] {
    return [...this.occupants.values()];
  }

  private occupantId(bare: string): string {
    return createHash('sha256').update(`${this.config.occupantIdSalt}\0${bare}`).digest('base64').slice(0, 24);
  }

  private sees(viewer: Occupant): boolean {
    return this.config.whois === 'anyone' || viewer.role === 'moderator';
  }

  /** The <x xmlns=muc#user><item/></x> of an occupant as `viewer` sees it. */
  private userItem(subject: Occupant, viewer: Occupant | null, extra: { statuses?: string[]; role?: Role; affiliation?: Affiliation; nick?: string; actor?: string; reason?: string } = {}): Element {
    const item = xml('item', {
      affiliation: extra.affiliation ?? this.affiliationOf(subject.bare),
      role: extra.role ?? subject.role,
      jid: viewer === null || this.sees(viewer) ? [...subject.sessions.keys()][0] ?? subject.bare : undefined,
      nick: extra.nick,
    });
    if (extra.actor !== undefined) item.append(xml('actor', { nick: extra.actor }));
    if (extra.reason) item.append(xml('reason', null, extra.reason));
    const x = xml('x', { xmlns: NS_MUC_USER }, item);
    for (const code of extra.statuses ?? []) x.append(xml('status', { code }));
    return x;
  }

  /** An occupant's presence to everyone in the room; `self` codes go to the occupant alone (110 added). */
  private broadcastPresence(subject: Occupant, opts: { type?: 'unavailable'; statuses?: string[]; self?: string[]; role?: Role; affiliation?: Affiliation; nick?: string; actor?: string; reason?: string; payload?: Element[]; extra?: Element } = {}): void {
    const payload = opts.payload ?? (opts.type === 'unavailable' ? [] : presencePayload([...subject.sessions.values()][0] ?? xml('presence')));
    for (const viewer of this.everyone()) {
      const own = viewer === subject;
      const statuses = [...(opts.statuses ?? []), ...(own ? [SELF, ...(opts.self ?? [])] : [])];
      const x = this.userItem(subject, viewer, { ...opts, statuses });
      if (opts.extra) x.append(opts.extra.clone());
      const presence = xml('presence', { from: `${this.jid}/${subject.nick}`, type: opts.type },
        ...payload.map((p) => p.clone()), x, xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: subject.occupantId }));
      this.send(presence, viewer);
    }
    this.touch();
  }

  // ---- presence ----

  private presence(stanza: Element, from: JID, nick: string): void {
    const full = from.toString();
    const current = this.bySession.get(full);
    const type = stanza.attrs.type;
    if (type === 'error') {
      if (current !== undefined) this.removeOccupant(this.occupants.get(current)!, [ERROR_KICK], { role: 'none' });
      return;
    }
    if (type === 'unavailable') {
      if (current !== undefined) this.leave(this.occupants.get(current)!, full, presencePayload(stanza).filter((p) => p.name === 'status'));
      return;
    }
    if (type !== undefined) return;
    if (!nick) throw new StanzaError('jid-malformed', 'Join a room as room@service/nick');
    if (current === undefined) return this.join(stanza, from, nick);
    const occupant = this.occupants.get(current)!;
    if (current === nick) {
      occupant.sessions.set(full, stanza);
      return this.broadcastPresence(occupant);
    }
    this.changeNick(occupant, full, nick, stanza);
  }

  private join(stanza: Element, from: JID, nick: string, created = false): void {
    const full = from.toString();
    const bare = from.bareString();
    const affiliation = this.affiliationOf(bare);
    const muc = stanza.getChild('x', NS_MUC);
    if (affiliation === 'outcast') throw new StanzaError('forbidden', 'You are banned from this room');
    if (this.locked && affiliation !== 'owner') throw new StanzaError('item-not-found', 'The room is being set up by its owner');
    if (this.config.membersonly && !atLeast(affiliation, 'member')) throw new StanzaError('registration-required', 'The room is for members only');
    const taken = this.occupants.get(nick);
    if (taken && taken.bare !== bare) throw new StanzaError('conflict', 'That nickname is in use in the room');
    if (this.config.passwordprotectedroom && affiliation !== 'owner' && muc?.getChildText('password') !== this.config.roomsecret) {
      throw new StanzaError('not-authorized', 'The room needs the right password');
    }
    if (!taken && this.config.maxusers > 0 && this.occupants.size >= this.config.maxusers && !atLeast(affiliation, 'admin')) {
      throw new StanzaError('service-unavailable', 'The room is full', 'wait');
    }
    if (taken) {
      // Another session of the same user under the same nick (XEP-0045 7.2.9): one occupant.
      taken.sessions.set(full, stanza);
      this.bySession.set(full, nick);
      this.touch();
      this.welcome(full, muc, created);
      return;
    }
    const occupant: Occupant = { nick, bare, role: defaultRole(affiliation, this.config.moderatedroom), sessions: new Map([[full, stanza]]), occupantId: this.occupantId(bare) };
    // The newcomer hears of everyone already there, then everyone of the newcomer.
    for (const other of this.everyone()) {
      this.send(xml('presence', { from: `${this.jid}/${other.nick}` },
        ...presencePayload([...other.sessions.values()][0]!), this.userItem(other, occupant),
        xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: other.occupantId })), [full]);
    }
    this.occupants.set(nick, occupant);
    this.bySession.set(full, nick);
    const self = [...(this.config.whois === 'anyone' ? [NON_ANONYMOUS] : []), ...(this.config.enablearchiving ? [LOGGED] : []), ...(created ? [CREATED] : [])];
    this.broadcastPresence(occupant, { self });
    this.welcome(full, muc, created);
  }

  /** History and subject, to a session that just joined. */
  private welcome(full: string, muc: Element | undefined, created: boolean): void {
    if (created) return;
    for (const entry of this.history.select(historyRequest(muc?.getChild('history')), this.host.now())) {
      const message = entry.message.clone();
      message.append(xml('delay', { xmlns: NS_DELAY, from: this.jid, stamp: entry.at.toISOString() }));
      this.send(message, [full]);
    }
    this.send(xml('message', { type: 'groupchat', from: this.subjectBy ? `${this.jid}/${this.subjectBy}` : this.jid },
      xml('subject', null, this.subject)), [full]);
  }

  private changeNick(occupant: Occupant, full: string, nick: string, stanza: Element): void {
    const taken = this.occupants.get(nick);
    if (taken && taken.bare !== occupant.bare) throw new StanzaError('conflict', 'That nickname is in use in the room');
    if (taken) throw new StanzaError('not-acceptable', 'Leave with one session before joining another nick');
    this.broadcastPresence(occupant, { type: 'unavailable', statuses: [NICK_CHANGED], nick });
    this.occupants.delete(occupant.nick);
    occupant.nick = nick;
    occupant.sessions.set(full, stanza);
    this.occupants.set(nick, occupant);
    for (const jid of occupant.sessions.keys()) this.bySession.set(jid, nick);
    this.broadcastPresence(occupant);
  }

  private leave(occupant: Occupant, full: string, payload: Element[]): void {
    if (occupant.sessions.size > 1) {
      // The user stays in the room with its other sessions; this one alone hears it left.
      occupant.sessions.delete(full);
      this.bySession.delete(full);
      this.touch();
      this.send(xml('presence', { from: `${this.jid}/${occupant.nick}`, type: 'unavailable' },
        this.userItem(occupant, occupant, { role: 'none', statuses: [SELF] })), [full]);
      return;
    }
    this.removeOccupant(occupant, [], { payload });
  }

  /** Takes an occupant out, every session of it, with the given status codes. */
  private removeOccupant(occupant: Occupant, statuses: string[], opts: { role?: Role; affiliation?: Affiliation; actor?: string; reason?: string; payload?: Element[]; extra?: Element } = {}): void {
    this.broadcastPresence(occupant, { type: 'unavailable', statuses, role: 'none', ...opts });
    this.occupants.delete(occupant.nick);
    for (const jid of occupant.sessions.keys()) this.bySession.delete(jid);
    if (this.occupants.size === 0 && (!this.config.persistentroom || this.locked)) this.close();
  }

  /** The room is no more: destroyed, or temporary and empty. A room of the same name later starts a new archive. */
  private close(): void {
    this.destroyed = true;
    this.host.archive.delete(this.jid);
    this.host.closed(this.name);
  }

  // ---- messages ----

  private occupantOf(from: JID): Occupant | undefined {
    const nick = this.bySession.get(from.toString());
    return nick === undefined ? undefined : this.occupants.get(nick);
  }

  private message(stanza: Element, from: JID, nick: string): void {
    const type = stanza.attrs.type ?? 'normal';
    const sender = this.occupantOf(from);
    if (type === 'error') {
      // An occupant's client refused what the room sent it: it is gone (XEP-0045 status 333).
      if (sender) this.removeOccupant(sender, [ERROR_KICK]);
      return;
    }
    if (nick) return this.privateMessage(stanza, sender, nick);
    const user = stanza.getChild('x', NS_MUC_USER);
    if (type !== 'groupchat' && user?.getChild('decline')) return this.decline(user.getChild('decline')!, from);
    if (!sender) throw new StanzaError('not-acceptable', 'Only occupants may send to the room');
    if (type === 'groupchat') return this.groupchat(stanza, sender);
    if (user?.getChildren('invite').length) return this.invite(user, sender, from);
    const form = stanza.getChild('x', NS_DATA);
    if (form && formType(form) === NS_MUC_REQUEST) return this.voiceRequest(form, sender);
    throw new StanzaError('bad-request', 'A message to the room is a groupchat message, an invitation or a voice request');
  }

  private groupchat(stanza: Element, sender: Occupant): void {
    if (sender.role === 'visitor' || sender.role === 'none') throw new StanzaError('forbidden', 'Visitors have no voice in this room');
    const subject = stanza.getChild('subject');
    const out = xml('message', { type: 'groupchat', from: `${this.jid}/${sender.nick}`, id: stanza.attrs.id });
    // Nobody but the room says what its archive calls a message, nor who sent it (XEP-0359, XEP-0421).
    for (const c of stanza.getChildElements()) if (c.getNS() !== NS_OCCUPANT_ID && !(c.is('stanza-id', NS_SID) && c.attrs.by === this.jid)) out.append(c.clone());
    out.append(xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: sender.occupantId }));
    if (subject && !stanza.getChild('body')) {
      if (sender.role !== 'moderator' && !this.config.changesubject) throw new StanzaError('forbidden', 'Only moderators change the subject of this room');
      this.subject = subject.getText();
      this.subjectBy = sender.nick;
      this.persist();
    } else {
      const at = this.host.now();
      if (this.config.enablearchiving) out.append(xml('stanza-id', { xmlns: NS_SID, id: this.host.archive.add(this.jid, sender.nick, out, at), by: this.jid }));
      this.history.add(out, at);
    }
    for (const occupant of this.everyone()) this.send(out, occupant);
  }

  private privateMessage(stanza: Element, sender: Occupant | undefined, nick: string): void {
    if (!sender) throw new StanzaError('not-acceptable', 'Only occupants send private messages in the room');
    if (stanza.attrs.type === 'groupchat') throw new StanzaError('bad-request', 'A groupchat message goes to the room, not to an occupant');
    if (!this.config.allowpm) throw new StanzaError('forbidden', 'Private messages are not allowed in this room');
    const target = this.occupants.get(nick);
    if (!target) throw new StanzaError('item-not-found', 'No occupant has that nickname');
    const out = xml('message', { type: stanza.attrs.type, id: stanza.attrs.id, from: `${this.jid}/${sender.nick}` });
    for (const c of stanza.getChildElements()) if (c.getNS() !== NS_OCCUPANT_ID && c.getNS() !== NS_MUC_USER) out.append(c.clone());
    out.append(xml('x', { xmlns: NS_MUC_USER }), xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: sender.occupantId }));
    this.send(out, target);
  }

  /** Mediated invitations (XEP-0045 7.8.2); in a members-only room the invitee becomes a member. */
  private invite(user: Element, sender: Occupant, from: JID): void {
    const affiliation = this.affiliationOf(sender.bare);
    if (this.config.membersonly && !this.config.allowinvites && !atLeast(affiliation, 'admin')) {
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
      if (this.config.passwordprotectedroom) x.append(xml('password', null, this.config.roomsecret));
      this.host.output.route(xml('message', { from: this.jid, to: to.toString() }, x,
        xml('body', null, `${from.bareString()} invites you to the room ${this.jid}${reason ? `: ${reason}` : ''}`)));
      if (this.config.membersonly && this.affiliationOf(to.bareString()) === 'none') {
        this.affiliations.set(to.bareString(), { affiliation: 'member', reason: '' });
        added = true;
      }
    }
    if (added) this.persist(true);
  }

  private decline(decline: Element, from: JID): void {
    const to = JID.tryParse(decline.attrs.to);
    if (!to) throw new StanzaError('jid-malformed', 'A decline names the inviter');
    const reason = decline.getChildText('reason');
    this.host.output.route(xml('message', { from: this.jid, to: to.toString() },
      xml('x', { xmlns: NS_MUC_USER }, xml('decline', { from: from.bareString() }, reason !== undefined ? xml('reason', null, reason) : undefined))));
  }

  /** A visitor asks for voice (XEP-0045 7.13), or a moderator answers such a request (8.6). */
  private voiceRequest(form: Element, sender: Occupant): void {
    const values = formValues(form);
    if (form.attrs.type === 'submit' && values.has('muc#request_allow')) {
      if (sender.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators answer voice requests');
      const allow = ['1', 'true'].includes(values.get('muc#request_allow') ?? '');
      const target = this.occupants.get(values.get('muc#roomnick') ?? '');
      if (allow && target && target.role === 'visitor') this.setRole(target, 'participant', sender.nick, '');
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
    for (const moderator of this.everyone()) {
      if (moderator.role === 'moderator') this.send(xml('message', { from: this.jid }, request.clone()), moderator);
    }
  }

  // ---- IQs ----

  private iq(stanza: Element, from: JID, nick: string): void {
    const type = stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.getChildElements()[0];
    const ns = payload?.getNS();
    const sender = this.occupantOf(from);
    if (nick) {
      // XEP-0410: a ping to one's own occupant JID says whether one is still in the room.
      // Anything else from outside the room is a bad request (XEP-0045 6.7).
      if (!sender) throw new StanzaError(ns === NS_PING ? 'not-acceptable' : 'bad-request', 'You are not in the room');
      if (ns === NS_PING && type === 'get' && sender.nick === nick) return this.result(stanza, from);
      if (!this.occupants.has(nick)) throw new StanzaError('item-not-found', 'No occupant has that nickname');
      throw new StanzaError('service-unavailable', 'The room does not pass IQs to occupants');
    }
    const actor = { role: sender?.role ?? 'none' as Role, affiliation: this.affiliationOf(from.bareString()) };
    if (type === 'get' && ns === NS_DISCO_INFO) return this.result(stanza, from, this.discoInfo());
    if (type === 'get' && ns === NS_DISCO_ITEMS) {
      // The occupants, to those who could see them by joining: everyone for a public room (XEP-0045 6.5).
      const items = sender || (this.config.publicroom && !this.config.membersonly) ? this.everyone().map((o) => xml('item', { jid: `${this.jid}/${o.nick}` })) : [];
      return this.result(stanza, from, xml('query', { xmlns: NS_DISCO_ITEMS }, ...items));
    }
    if (type === 'get' && ns === NS_PING) return this.result(stanza, from);
    if (ns === NS_MAM && payload!.localName === 'query') return this.archiveQuery(stanza, payload!, from, sender);
    if (ns === NS_MUC_OWNER) {
      if (actor.affiliation !== 'owner') throw new StanzaError('forbidden', 'Only owners configure the room');
      if (type === 'get') return this.result(stanza, from, xml('query', { xmlns: NS_MUC_OWNER }, configForm(this.config, this.withAffiliation('owner'), this.withAffiliation('admin'))));
      return this.ownerSet(stanza, payload!, from);
    }
    if (ns === NS_MUC_ADMIN) {
      if (type === 'get') return this.result(stanza, from, this.adminList(payload!, actor));
      this.adminSet(payload!, actor, sender?.nick ?? '');
      return this.result(stanza, from);
    }
    throw new StanzaError('service-unavailable', 'The room does not answer that');
  }

  /** XEP-0313 queries to the room: for those who may read the room (occupants, or anyone in an open public room). */
  private archiveQuery(stanza: Element, query: Element, from: JID, sender: Occupant | undefined): void {
    if (!this.config.enablearchiving) throw new StanzaError('service-unavailable', 'The room keeps no archive');
    const open = this.config.publicroom && !this.config.membersonly && !this.config.passwordprotectedroom;
    if (!sender && !open && !atLeast(this.affiliationOf(from.bareString()), 'member')) throw new StanzaError('forbidden', 'Only occupants read the archive of this room');
    if (stanza.attrs.type === 'get') return this.result(stanza, from, queryFormElement());
    this.host.archive.query(this.jid, query, from.toString()).then(
      (fin) => this.result(stanza, from, fin),
      (err: unknown) => this.fail(stanza, from, err instanceof StanzaError ? err : new StanzaError('internal-server-error')),
    );
  }

  private result(stanza: Element, from: JID, payload?: Element): void {
    this.host.output.route(xml('iq', { type: 'result', id: stanza.attrs.id, from: stanza.attrs.to, to: from.toString() }, payload));
  }

  discoInfo(): Element {
    const c = this.config;
    const features = [
      NS_MUC, NS_OCCUPANT_ID, NS_SELF_PING,
      c.publicroom ? 'muc_public' : 'muc_hidden', c.persistentroom ? 'muc_persistent' : 'muc_temporary',
      c.membersonly ? 'muc_membersonly' : 'muc_open', c.moderatedroom ? 'muc_moderated' : 'muc_unmoderated',
      c.passwordprotectedroom ? 'muc_passwordprotected' : 'muc_unsecured', c.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
      ...(c.enablearchiving ? [NS_MAM, NS_SID] : []),
    ];
    const field = (name: string, value: string, type?: string, label?: string): Element => xml('field', { var: name, type, label }, xml('value', null, value));
    return xml('query', { xmlns: NS_DISCO_INFO },
      xml('identity', { category: 'conference', type: 'text', name: c.roomname || this.name }),
      ...[NS_DISCO_INFO, ...features].map((f) => xml('feature', { var: f })),
      xml('x', { xmlns: NS_DATA, type: 'result' },
        field('FORM_TYPE', NS_MUC_ROOMINFO, 'hidden'),
        field('muc#roominfo_description', c.roomdesc, 'text-single', 'Description'),
        field('muc#roominfo_subject', this.subject, 'text-single', 'Subject'),
        field('muc#roominfo_occupants', String(this.occupants.size), 'text-single', 'Number of occupants'),
        field('muc#roomconfig_roomname', c.roomname, 'text-single', 'Name'),
        field('muc#roominfo_changesubject', c.changesubject ? '1' : '0', 'boolean', 'Occupants may change the subject'),
        field('muc#maxhistoryfetch', String(c.historylength), 'text-single', 'Maximum number of history messages')));
  }

  private ownerSet(stanza: Element, query: Element, from: JID): void {
    const destroy = query.getChild('destroy');
    if (destroy) {
      this.destroy(destroy);
      return this.result(stanza, from);
    }
    const form = query.getChild('x', NS_DATA);
    if (!form) throw new StanzaError('bad-request', 'An owner query carries a form or a destroy');
    if (form.attrs.type === 'cancel') {
      // Cancelling the first configuration of a new room gives it up (XEP-0045 10.1.3).
      this.result(stanza, from);
      if (this.locked) this.destroy(xml('destroy'));
      return;
    }
    if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Submit the configuration form');
    this.applyForm(form);
    this.result(stanza, from);
  }

  /** A submitted configuration form: checked first, then applied, and everyone told. */
  private applyForm(form: Element): void {
    const formTypeValue = formType(form);
    if (formTypeValue !== undefined && formTypeValue !== NS_MUC_ROOMCONFIG) throw new StanzaError('bad-request', 'That is not a room configuration form');
    const change = applyConfigForm(form, this.config, this.host.maxHistory);
    const wasPersistent = this.config.persistentroom;
    const becameMembersOnly = change.config.membersonly && !this.config.membersonly;
    if (change.owners) {
      const owners = change.owners.map(bareOrFail);
      if (owners.length === 0) throw new StanzaError('not-acceptable', 'A room keeps at least one owner');
      for (const jid of this.withAffiliation('owner')) if (!owners.includes(jid)) this.affiliations.delete(jid);
      for (const jid of owners) this.affiliations.set(jid, { affiliation: 'owner', reason: '' });
    }
    if (change.admins) {
      const admins = change.admins.map(bareOrFail);
      for (const jid of this.withAffiliation('admin')) if (!admins.includes(jid)) this.affiliations.delete(jid);
      for (const jid of admins) if (this.affiliationOf(jid) !== 'owner') this.affiliations.set(jid, { affiliation: 'admin', reason: '' });
    }
    this.config = change.config;
    this.history.setLimit(Math.min(this.config.historylength, this.host.maxHistory));
    const wasLocked = this.locked;
    this.locked = false;
    if (wasPersistent && !this.config.persistentroom) this.host.store.deleteRoom(this.name);
    this.persist(true);
    if (change.owners || change.admins) for (const o of this.everyone()) this.refresh(o);
    if (becameMembersOnly) {
      for (const o of this.everyone()) if (!atLeast(this.affiliationOf(o.bare), 'member')) this.removeOccupant(o, [MEMBERS_ONLY]);
    }
    if (!wasLocked) {
      for (const o of this.everyone()) this.send(xml('message', { type: 'groupchat', from: this.jid }, xml('x', { xmlns: NS_MUC_USER }, xml('status', { code: CONFIG_CHANGED }))), o);
    }
    if (this.empty && !this.config.persistentroom) this.close();
  }

  /** Destroys the room (XEP-0045 10.9): everyone leaves, told where to go instead and why. */
  destroy(destroy: Element): void {
    const alternate = JID.tryParse(destroy.attrs.jid);
    const extra = xml('destroy', { jid: alternate?.toString() }, destroy.getChildText('reason') !== undefined ? xml('reason', null, destroy.getChildText('reason')!) : undefined,
      destroy.getChildText('password') !== undefined ? xml('password', null, destroy.getChildText('password')!) : undefined);
    for (const occupant of this.everyone()) {
      this.broadcastPresence(occupant, { type: 'unavailable', role: 'none', affiliation: 'none', extra });
    }
    this.occupants.clear();
    this.bySession.clear();
    if (this.config.persistentroom) this.host.store.deleteRoom(this.name);
    this.close();
  }

  /** Re-announces an occupant whose role or affiliation changed. */
  private refresh(occupant: Occupant, extra: { actor?: string; reason?: string } = {}): void {
    const affiliation = this.affiliationOf(occupant.bare);
    const wanted = defaultRole(affiliation, this.config.moderatedroom);
    // A visitor given voice keeps it while no affiliation says otherwise; an affiliation change resets the role.
    occupant.role = wanted;
    this.broadcastPresence(occupant, extra);
  }

  private setRole(target: Occupant, role: Role, actor: string, reason: string): void {
    if (role === 'none') return this.removeOccupant(target, [KICKED], { actor, reason });
    target.role = role;
    this.broadcastPresence(target, { actor, reason });
  }

  private adminList(query: Element, actor: { role: Role; affiliation: Affiliation }): Element {
    const item = query.getChild('item');
    const affiliation = item?.attrs.affiliation as Affiliation | undefined;
    const role = item?.attrs.role as Role | undefined;
    const out = xml('query', { xmlns: NS_MUC_ADMIN });
    if (affiliation && AFFILIATIONS.includes(affiliation) && affiliation !== 'none') {
      checkAffiliationList(actor.affiliation, affiliation, this.config.getmemberlist);
      for (const [jid, a] of this.affiliations) {
        if (a.affiliation !== affiliation) continue;
        const nick = this.everyone().find((o) => o.bare === jid)?.nick;
        out.append(xml('item', { affiliation, jid, nick }, a.reason ? xml('reason', null, a.reason) : undefined));
      }
      return out;
    }
    if (role && ROLES.includes(role) && role !== 'none') {
      if (actor.role !== 'moderator') throw new StanzaError('forbidden', 'Only moderators list roles');
      for (const o of this.everyone()) {
        if (o.role === role) out.append(xml('item', { role, nick: o.nick, jid: [...o.sessions.keys()][0], affiliation: this.affiliationOf(o.bare) }));
      }
      return out;
    }
    throw new StanzaError('bad-request', 'Ask for one affiliation or role');
  }

  /** Changes of roles (by nick) and affiliations (by JID), all checked before any is applied. */
  private adminSet(query: Element, actor: { role: Role; affiliation: Affiliation }, actorNick: string): void {
    const changes: (() => void)[] = [];
    const owners = new Set(this.withAffiliation('owner'));
    for (const item of query.getChildren('item')) {
      const reason = item.getChildText('reason') ?? '';
      const role = item.attrs.role as Role | undefined;
      const affiliation = item.attrs.affiliation as Affiliation | undefined;
      if (affiliation !== undefined) {
        if (!AFFILIATIONS.includes(affiliation)) throw new StanzaError('bad-request', `No affiliation ${affiliation}`);
        const jid = item.attrs.jid !== undefined ? JID.tryParse(item.attrs.jid) : this.occupants.get(item.attrs.nick ?? '') ? JID.tryParse(this.occupants.get(item.attrs.nick!)!.bare) : null;
        if (!jid) throw new StanzaError(item.attrs.jid !== undefined ? 'jid-malformed' : 'bad-request', 'An affiliation is given to a JID');
        const bare = jid.bareString();
        checkAffiliationChange(actor.affiliation, this.affiliationOf(bare), affiliation);
        if (affiliation === 'owner') owners.add(bare);
        else owners.delete(bare);
        if (owners.size === 0) throw new StanzaError('conflict', 'A room keeps at least one owner');
        changes.push(() => this.setAffiliation(bare, affiliation, actorNick, reason));
      } else if (role !== undefined) {
        if (!ROLES.includes(role)) throw new StanzaError('bad-request', `No role ${role}`);
        const target = this.occupants.get(item.attrs.nick ?? '');
        if (!target) throw new StanzaError(item.attrs.nick ? 'item-not-found' : 'bad-request', 'A role is given to an occupant by nick');
        checkRoleChange(actor, { role: target.role, affiliation: this.affiliationOf(target.bare) }, role);
        changes.push(() => { if (this.occupants.get(target.nick) === target) this.setRole(target, role, actorNick, reason); });
      } else {
        throw new StanzaError('bad-request', 'An item changes a role or an affiliation');
      }
    }
    for (const change of changes) change();
    this.persist(true);
  }

  private setAffiliation(bare: string, affiliation: Affiliation, actor: string, reason: string): void {
    if (affiliation === 'none') this.affiliations.delete(bare);
    else this.affiliations.set(bare, { affiliation, reason });
    for (const occupant of this.everyone()) {
      if (occupant.bare !== bare) continue;
      if (affiliation === 'outcast') this.removeOccupant(occupant, [BANNED], { affiliation, actor, reason });
      else if (this.config.membersonly && affiliation === 'none') this.removeOccupant(occupant, [AFFILIATION_LOST], { affiliation, actor, reason });
      else this.refresh(occupant, { actor, reason });
    }
  }

  /** An account was deleted: it keeps no affiliation here. */
  forget(bare: string): void {
    if (!this.affiliations.delete(bare)) return;
    this.touch();
    for (const occupant of this.everyone()) if (occupant.bare === bare) this.refresh(occupant);
  }
}

function formType(form: Element): string | undefined {
  return form.getChildren('field').find((f) => f.attrs.var === 'FORM_TYPE')?.getChildText('value');
}

function bareOrFail(value: string): string {
  const jid = JID.tryParse(value);
  if (!jid) throw new StanzaError('jid-malformed', `Not a JID: ${value}`);
  return jid.bareString();
}
