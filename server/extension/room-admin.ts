// What operators' tools (the admin API, and through it the console and `xmppd muc`) ask of
// the group chat service, which the muc module provides as its API (modules/muc/room-admin.ts).
// It lives here, where the kernel and the modules meet, because the admin API may not import
// a module. Every method is async and takes and returns plain data, never a room: once rooms
// live on an owner node of a cluster, the node asked may have to forward the question there.

/** A room option's value: the muc#roomconfig options are booleans, numbers and strings. */
export type RoomOptionValue = boolean | number | string;

export type RoomAffiliation = 'owner' | 'admin' | 'member' | 'outcast';

export interface RoomSummary {
  /** room@service */
  jid: string;
  /** The localpart of the JID. */
  name: string;
  /** muc#roomconfig_roomname; empty if the room has none. */
  title: string;
  persistent: boolean;
  public: boolean;
  /** Created and not configured yet: only its owner may enter (XEP-0045 10.1). */
  locked: boolean;
  occupants: number;
  /** ISO 8601; for a persistent room, when it was first stored. */
  created: string;
}

export interface RoomOccupant {
  nick: string;
  role: 'moderator' | 'participant' | 'visitor';
  affiliation: RoomAffiliation | 'none';
  /** Bare JID of the user. */
  bare: string;
  /** The full JIDs of the user's sessions in the room under this nick. */
  jids: string[];
}

export interface RoomAffiliationEntry {
  /** Bare JID. */
  jid: string;
  affiliation: RoomAffiliation;
  reason: string;
}

/** One room in full; its occupants listed rather than counted. */
export interface RoomDetail extends Omit<RoomSummary, 'occupants'> {
  subject: string;
  /** Every option by its muc#roomconfig name without the prefix (roomname, publicroom, maxusers, ...). */
  options: Record<string, RoomOptionValue>;
  affiliations: RoomAffiliationEntry[];
  occupants: RoomOccupant[];
}

export interface AffiliationChange {
  jid: string;
  affiliation: RoomAffiliation | 'none';
  reason?: string;
}

export interface RoomAdmin {
  /** The service's domain (conference.<domain>). */
  readonly service: string;
  /** Every room, by name. */
  list(): Promise<RoomSummary[]>;
  /** One room; RoomAdminError 'not-found' if there is none. */
  get(name: string): Promise<RoomDetail>;
  /** A persistent room owned by `owner` (a bare JID), configured with `options` over the defaults. */
  create(name: string, owner: string, options?: Record<string, RoomOptionValue>): Promise<RoomDetail>;
  /** Changes options and affiliations as an owner would: occupants hear of it as XEP-0045 says. */
  change(name: string, change: { options?: Record<string, RoomOptionValue>; affiliations?: AffiliationChange[] }): Promise<RoomDetail>;
  /** Destroys the room (XEP-0045 10.9): occupants get the destroy presence with the reason and the alternate venue. */
  destroy(name: string, opts?: { reason?: string; alternate?: string }): Promise<void>;
}

/** Why an operator's request was refused: no such room, a room of that name exists, or bad input (the message names it). */
export class RoomAdminError extends Error {
  constructor(readonly kind: 'not-found' | 'exists' | 'invalid', message: string) {
    super(message);
    this.name = 'RoomAdminError';
  }
}
