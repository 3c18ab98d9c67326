// What a room needs from the world around it, as interfaces: where its stanzas go, where
// its persistent state is kept, and the clock. A room never reaches the kernel itself, so
// that it may later run on whichever node of a cluster owns it, its output then fanned out
// once per node that holds occupants (see docs/architecture.md, "Group chat").
import type { Element } from '../../xml/element.ts';
import type { StoredAffiliation, StoredRoom } from '../../storage/types.ts';

export interface RoomOutput {
  /** Sends `stanza` to each of these full JIDs (occupants' sessions), 'to' set to each. */
  toOccupants(stanza: Element, fullJids: readonly string[]): void;
  /** Sends a stanza that carries its own 'to' (an error to a stranger, an invitation). */
  route(stanza: Element): void;
}

export interface RoomStore {
  /** Writes are queued per room and applied in order; a failure is logged. */
  saveRoom(room: Omit<StoredRoom, 'affiliations'>): void;
  saveAffiliations(name: string, affiliations: readonly StoredAffiliation[]): void;
  deleteRoom(name: string): void;
}

export interface RoomHost {
  readonly output: RoomOutput;
  readonly store: RoomStore;
  now(): Date;
  /** The longest history a room may keep (xmpp.muc.max-history). */
  readonly maxHistory: number;
  /** The room has no occupant left and is not persistent, or it was destroyed: forget it. */
  closed(name: string): void;
}
