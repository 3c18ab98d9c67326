// What a room needs from the world around it, as interfaces: where its stanzas go, where
// its persistent state is kept, and the clock. A room never reaches the kernel itself, so
// that it runs on whichever node of a cluster owns it, its output fanned out once per node
// that holds occupants (see docs/architecture.md, "Group chat").
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

/** The rooms' message archive (XEP-0313), in the same store as accounts' archives. */
export interface RoomArchive {
  /** Keeps a groupchat message as occupants got it; returns its archive id, for its <stanza-id/>. */
  add(room: string, nick: string, message: Element, at: Date): string;
  /** Answers an archive query to the room: results go to `requester`, the IQ's payload is returned. */
  query(room: string, query: Element, requester: string): Promise<Element>;
  /** Forgets a destroyed room's archive. */
  delete(room: string): void;
  /** The newest `limit` messages of the room's archive, oldest first, each with its archive id; none if it cannot be read (logged). */
  recent(room: string, limit: number): Promise<{ id: string; message: Element; at: Date }[]>;
}

export interface RoomHost {
  readonly output: RoomOutput;
  readonly store: RoomStore;
  readonly archive: RoomArchive;
  now(): Date;
  /** The longest history a room may keep (xmpp.muc.max-history). */
  readonly maxHistory: number;
  /** The room has no occupant left and is not persistent, or it was destroyed: forget it. */
  closed(name: string): void;
  /**
   * Its occupants (who, with which role and presence), configuration, affiliations or subject
   * changed: what a standby copy of the room must follow. Not called for messages.
   */
  changed(name: string): void;
}
