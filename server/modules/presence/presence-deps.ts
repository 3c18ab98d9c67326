// What the presence handlers share.
import type { JID } from '../../jid/jid.ts';
import type { Logger } from '../../log.ts';
import type { Element } from '../../xml/element.ts';
import type { RosterStore } from '../roster/roster-store.ts';
import type { Kernel } from '../../extension/kernel.ts';

export interface PresenceDeps {
  kernel: Kernel;
  store: RosterStore;
  log: Logger;
}

/** Fired once a session has sent initial presence and its contacts were told (payload: SessionEvent). */
export const PRESENCE_INITIAL = 'presence/initial';

/** A copy of a presence stanza with new addresses, for one recipient. */
export function readdressed(stanza: Element, from: JID, to: string): Element {
  const copy = stanza.clone();
  copy.attrs.xmlns ??= 'jabber:client';
  copy.attrs.from = from.toString();
  copy.attrs.to = to;
  return copy;
}
