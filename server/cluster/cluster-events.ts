// Events a clustering plugin fires into the kernel's event bus, for modules to act on.
import type { JID } from '../jid/jid.ts';

/**
 * A session held by a node that left the cluster (it crashed or lost its link): fired once,
 * by one surviving node, for each of its routes, so that contacts learn it is gone.
 */
export const SESSION_LOST = 'cluster/session-lost';

export interface SessionLostEvent {
  jid: JID;
  /** The session had sent available presence. */
  available: boolean;
}
