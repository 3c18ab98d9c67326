// RFC 6121 4.6: presence a client sends to one entity rather than broadcasting it. The
// server remembers who got available presence that way, so that they learn of the
// session's end (4.6.3), unless a later directed unavailable already told them.
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { ClientSession } from '../../session/client-session.ts';

/** Notes a client's directed presence; called for every stanza before routing. */
export function trackDirected(ev: StanzaEvent): void {
  const session = ev.origin;
  if (!session || ev.stanza.name !== 'presence') return;
  // The account's own resources hear of it anyway.
  if (ev.to.bareString() === session.jid.bareString()) return;
  const type = ev.stanza.attrs.type;
  if (type === undefined) session.directedPresence.add(ev.to.toString());
  else if (type === 'unavailable') session.directedPresence.delete(ev.to.toString());
}

/** Empties a session's list of directed presence and returns what it held. */
export function takeDirected(session: ClientSession): string[] {
  const targets = [...session.directedPresence];
  session.directedPresence.clear();
  return targets;
}
