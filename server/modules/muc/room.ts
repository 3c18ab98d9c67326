// One group chat room (XEP-0045): all of its state, and every stanza addressed to it or to
// one of its occupants, through one entry point, handle(stanza, from). What it says goes
// out through RoomOutput only, what it keeps through RoomStore: the room knows nothing of
// sessions, nodes or SQL, so that it can run wherever its owner node is.
//
// Room is what the rest of the module sees of a room. Its state is a RoomState
// (room-state.ts); each kind of stanza is handled in a file of its own, on that state:
// occupants' presence in room-presence.ts, messages in room-messages.ts, IQs in room-iq.ts,
// affiliations and roles in room-affiliations.ts, configuration and destruction in
// room-owner.ts.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_SID } from '../mam/stanza-id.ts';
import type { RoomConfig } from './room-config.ts';
import type { RoomHost } from './room-output.ts';
import type { Affiliation } from './roles.ts';
import type { StoredAffiliation, StoredRoom } from '../../storage/types.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import type { OccupantSnapshot, RoomSnapshot } from './room-snapshot.ts';
import { adminSet, forget } from './room-affiliations.ts';
import { discoInfo, iq } from './room-iq.ts';
import { message } from './room-messages.ts';
import { applyForm, destroyRoom } from './room-owner.ts';
import { join, presence, removeOccupant, sessionGone } from './room-presence.ts';
import { RoomState, SHUTDOWN, type Occupant } from './room-state.ts';

export class Room {
  private readonly state: RoomState;

  constructor(name: string, service: string, config: RoomConfig, host: RoomHost, opts: { locked: boolean; stored?: StoredRoom }) {
    this.state = new RoomState(name, service, config, host, opts);
  }

  get name(): string { return this.state.name; }
  get service(): string { return this.state.service; }
  get jid(): string { return this.state.jid; }
  get config(): RoomConfig { return this.state.config; }
  /** Created and not yet configured by its owner (XEP-0045 10.1): only the owner may enter. */
  get locked(): boolean { return this.state.locked; }
  get subject(): string { return this.state.subject; }
  get subjectBy(): string { return this.state.subjectBy; }
  /** When the room was created (a persistent one: first stored). */
  get created(): Date { return this.state.created; }
  get occupants(): Map<string, Occupant> { return this.state.occupants; }

  /** The room another node held, as its snapshot says, occupants in without a word to them. */
  static fromSnapshot(snapshot: RoomSnapshot, service: string, host: RoomHost): Room {
    const room = new Room(snapshot.name, service, snapshot.config, host, {
      locked: snapshot.locked,
      stored: {
        name: snapshot.name, config: { ...snapshot.config }, subject: snapshot.subject, subjectBy: snapshot.subjectBy,
        vcard: snapshot.vcard ?? null, affiliations: snapshot.affiliations,
      },
    });
    for (const entry of snapshot.history ?? []) room.state.history.add(parseXml(entry.message), new Date(entry.at));
    room.readmit(snapshot.occupants);
    return room;
  }

  /** Everything another node needs to go on with the room; history only when asked for. */
  snapshot(withHistory: boolean): RoomSnapshot {
    const s = this.state;
    return {
      ...s.stored(),
      config: { ...s.config },
      locked: s.locked,
      affiliations: s.storedAffiliations(),
      occupants: s.everyone().map((o) => ({ nick: o.nick, bare: o.bare, role: o.role, sessions: [...o.sessions].map(([jid, p]) => [jid, p.toString()]) })),
      history: withHistory ? s.history.all().map((e) => ({ message: e.message.toString(), at: e.at.toISOString() })) : undefined,
    };
  }

  /**
   * Takes in occupants that were in the room while another node held it, silently: they and
   * the others saw the joins then. A nick another user holds here now keeps its holder.
   */
  readmit(occupants: readonly OccupantSnapshot[]): void {
    const s = this.state;
    for (const o of occupants) {
      const taken = s.occupants.get(o.nick);
      if (taken && taken.bare !== o.bare) continue;
      const occupant = taken ?? { nick: o.nick, bare: o.bare, role: o.role, sessions: new Map<string, Element>(), occupantId: s.occupantId(o.bare) };
      for (const [jid, presence] of o.sessions) {
        if (s.bySession.has(jid)) continue;
        occupant.sessions.set(jid, parseXml(presence));
        s.bySession.set(jid, o.nick);
      }
      if (occupant.sessions.size) s.occupants.set(o.nick, occupant);
    }
    s.touch();
  }

  /**
   * The room was rebuilt without its history (its node died): an archived room takes its
   * newest messages back from the archive, as occupants got them, before any kept since.
   */
  reloadHistory(): void {
    const s = this.state;
    const limit = Math.min(s.config.historylength, s.host.maxHistory);
    if (!s.config.enablearchiving || limit === 0) return;
    void s.host.archive.recent(s.jid, limit).then((entries) => {
      if (s.destroyed) return;
      // Messages this node took since are archived too: they are in the history already.
      const kept = new Set(s.history.all().map((e) => e.message.getChild('stanza-id', NS_SID)?.attrs.id));
      s.history.prepend(entries.filter((e) => !kept.has(e.id)).map((e) => {
        e.message.append(xml('stanza-id', { xmlns: NS_SID, id: e.id, by: s.jid }));
        return { message: e.message, at: e.at };
      }));
    });
  }

  /** Full JIDs of every occupant's sessions. */
  sessionJids(): string[] {
    return this.state.sessionJids();
  }

  /** The one entry point: a stanza to the room or one of its occupants, from `from` (a full JID). */
  handle(stanza: Element, from: JID): void {
    const s = this.state;
    if (s.destroyed) return s.fail(stanza, from, new StanzaError('item-not-found', 'The room is gone'));
    const nick = JID.tryParse(stanza.attrs.to)?.resource ?? '';
    try {
      if (stanza.name === 'presence') presence(s, stanza, from, nick);
      else if (stanza.name === 'message') message(s, stanza, from, nick);
      else if (stanza.name === 'iq') iq(s, stanza, from, nick);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      s.fail(stanza, from, err);
    }
  }

  /** The first presence of the room's creator, who owns it (setOwner) and enters with status 201. */
  open(stanza: Element, from: JID): void {
    try {
      join(this.state, stanza, from, JID.parse(stanza.attrs.to!).resource, true);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      this.state.fail(stanza, from, err);
      this.state.close();
    }
  }

  /** A session ended without saying so (its node died): it leaves as if it had sent unavailable. */
  sessionGone(fullJid: string): void {
    sessionGone(this.state, fullJid);
  }

  /** The service is going away: every occupant is told (332), nothing is kept of the visit. */
  shutdown(): void {
    for (const occupant of this.state.everyone()) removeOccupant(this.state, occupant, [SHUTDOWN]);
  }

  get empty(): boolean {
    return this.state.empty;
  }

  affiliationOf(bare: string): Affiliation {
    return this.state.affiliationOf(bare);
  }

  /** Bare JIDs of one affiliation. */
  withAffiliation(affiliation: Affiliation): string[] {
    return this.state.withAffiliation(affiliation);
  }

  /** The room's state as the store keeps it. */
  stored(): Omit<StoredRoom, 'affiliations'> {
    return this.state.stored();
  }

  /** Affiliations by bare JID, with the reason given for each (registered nicks are not the operators' API's). */
  affiliationList(): StoredAffiliation[] {
    return this.state.storedAffiliations().map(({ jid, affiliation, reason }) => ({ jid, affiliation, reason }));
  }

  /**
   * An operator's configuration or affiliation change (the admin API): it takes the path of
   * an owner's IQ, with an owner's rights, so occupants are told alike (104, affiliation
   * changes), and it throws the StanzaError an owner would get.
   */
  configure(form: Element): void {
    applyForm(this.state, form);
  }

  changeAffiliations(query: Element): void {
    adminSet(this.state, query, { role: 'moderator', affiliation: 'owner' }, '');
  }

  /** Takes an affiliation for a room being created: its creator owns it. */
  setOwner(bare: string): void {
    this.state.affiliate(bare, 'owner', '');
  }

  discoInfo(): Element {
    return discoInfo(this.state);
  }

  /** Destroys the room (XEP-0045 10.9): everyone leaves, told where to go instead and why. */
  destroy(destroy: Element): void {
    destroyRoom(this.state, destroy);
  }

  /** An account was deleted: it keeps no affiliation here. */
  forget(bare: string): void {
    forget(this.state, bare);
  }
}
