// Events about rosters, for the roster module's own pushes and for anyone else who keeps a
// copy of a roster (a clustering plugin relays them between nodes).
import type { RosterItem } from '../../storage/types.ts';

/** Fired after a roster item was written or removed: `roster/changed`. */
export interface RosterChangedEvent {
  username: string;
  /** Bare JID of the contact. */
  jid: string;
  /** The item now, or null if it was removed. */
  item: RosterItem | null;
  /** The item before, or null if it is new. */
  previous: RosterItem | null;
  /** Roster version after the change. */
  version: string;
}

/** Fire `roster/invalidate` after changing a roster in storage behind the roster module's back. */
export interface RosterInvalidateEvent {
  username: string;
}

export const ROSTER_CHANGED = 'roster/changed';
/**
 * A roster/changed made on another node of the cluster (same payload): the copy of that
 * roster here is stale, and this node's interested resources of the account need the push.
 */
export const ROSTER_CHANGED_REMOTE = 'remote/roster-changed';
export const ROSTER_INVALIDATE = 'roster/invalidate';
