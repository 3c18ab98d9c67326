// RFC 6121 4.6: presence a client sends to one entity rather than broadcasting it. The
// server remembers who got available presence that way, so that they learn of the
// session's end (4.6.3), unless a later directed unavailable already told them.
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { ClientSession } from '../../session/client-session.ts';

/**
 * Notes a client's directed presence; called for every stanza before routing. False when
 * the presence would make the session remember more than `max` addresses: the caller
 * refuses it, since a session could otherwise grow without bound (each address is kept
 * until the session ends).
 */
export function trackDirected(ev: StanzaEvent, max: number): boolean {
  const session = ev.origin;
  if (!session || ev.stanza.name !== 'presence') return true;
  // The account's own resources hear of it anyway.
  if (ev.to.bareString() === session.jid.bareString()) return true;
  const type = ev.stanza.attrs.type;
  const to = ev.to.toString();
  if (type === undefined) {
    if (session.directedPresence.size >= max && !session.directedPresence.has(to)) return false;
    session.directedPresence.add(to);
  } else if (type === 'unavailable') {
    session.directedPresence.delete(to);
  }
  return true;
}

/** Empties a session's list of directed presence and returns what it held. */
export function takeDirected(session: ClientSession): string[] {
  const targets = [...session.directedPresence];
  session.directedPresence.clear();
  return targets;
}
