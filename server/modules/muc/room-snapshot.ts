// A room's state as plain JSON data, so that it can travel between the nodes of a cluster:
// from the owner to the node that would own the room next (a standby copy, kept current),
// and from an owner that gives the room up to its new owner (docs/architecture.md, "Group
// chat"). Stanzas travel serialized; the receiving node parses them again.
import type { StoredAffiliation } from '../../storage/types.ts';
import type { RoomConfig } from './room-config.ts';
import type { Role } from './roles.ts';

export interface OccupantSnapshot {
  nick: string;
  bare: string;
  role: Role;
  /** Each session in the room under this nick: its full JID and its last presence, serialized. */
  sessions: [fullJid: string, presence: string][];
}

export interface HistorySnapshot {
  /** The message as occupants got it, serialized. */
  message: string;
  /** ISO 8601. */
  at: string;
}

export interface RoomSnapshot {
  name: string;
  config: RoomConfig;
  locked: boolean;
  subject: string;
  subjectBy: string;
  affiliations: StoredAffiliation[];
  occupants: OccupantSnapshot[];
  /** Absent from a standby copy: history is handed over only by an owner that gives the room up. */
  history?: HistorySnapshot[];
}

/** A snapshot that came over a cluster link, checked for the shape this node relies on. */
export function isRoomSnapshot(value: unknown): value is RoomSnapshot {
  const s = value as RoomSnapshot;
  return typeof s === 'object' && s !== null && typeof s.name === 'string' && typeof s.config === 'object' && s.config !== null
    && Array.isArray(s.affiliations) && Array.isArray(s.occupants)
    && s.occupants.every((o) => typeof o.nick === 'string' && typeof o.bare === 'string' && Array.isArray(o.sessions));
}
