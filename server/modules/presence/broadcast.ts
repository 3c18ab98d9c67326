// Presence a client broadcasts (no 'to'): initial presence (RFC 6121 4.2), updates (4.4)
// and unavailable presence (4.5), and the unavailable presence the server sends for a
// session that ends without saying so.
import type { JID } from '../../jid/jid.ts';
import type { ClientSession } from '../../session/client-session.ts';
import type { RosterItem } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { availableResources, resourcePresence } from '../roster/resources.ts';
import { hasFrom, hasTo } from '../roster/roster-item.ts';
import type { Roster } from '../roster/roster-store.ts';
import { takeDirected } from './directed-presence.ts';
import { PRESENCE_INITIAL, readdressed, type PresenceDeps } from './presence-deps.ts';
import { priorityOf } from './priority.ts';

export function onBroadcast(d: PresenceDeps, session: ClientSession, stanza: Element): void {
  const type = stanza.attrs.type;
  if (type === undefined) available(d, session, stanza);
  else if (type === 'unavailable') unavailable(d, session, stanza);
  // Presence errors are ignored, and subscription stanzas or probes need an addressee.
}

function available(d: PresenceDeps, session: ClientSession, stanza: Element): void {
  const { kernel } = d;
  const initial = !session.available;
  // The session is available at once, before any roster is read, so that a message right
  // behind this presence already finds it.
  session.presence = stanza;
  session.priority = priorityOf(stanza);
  kernel.presenceChanged(session);
  const user = session.jid.bare();
  // 4.2.2: the account's available resources, this one included, see it (an account is
  // subscribed to itself) ...
  kernel.route(readdressed(stanza, session.jid, user.toString()), session.jid);
  // ... and a new resource sees the others.
  if (initial) {
    const self = session.jid.toString();
    for (const other of availableResources(kernel, user)) {
      if (other.jid !== self) session.send(resourcePresence(other, self));
    }
  }
  void withRoster(d, user, (roster) => {
    toContacts(d, session.jid, stanza, roster);
    if (!initial || session.closed) return;
    probeContacts(d, user, roster);
    // 3.1.3: requests still waiting for an answer are delivered again.
    for (const item of roster.items.values()) {
      if (item.askIn) session.send(pendingRequest(item, user));
    }
  }).then(() => {
    // Offline messages and the like come after the presence of the contacts.
    if (initial && !session.closed) kernel.fire(PRESENCE_INITIAL, { session });
  });
}

/** The presence goes to every contact subscribed to the user's (RFC 6121 4.2.2, 4.4.2). */
function toContacts(d: PresenceDeps, from: JID, stanza: Element, roster: Roster): void {
  for (const item of roster.items.values()) {
    if (hasFrom(item)) d.kernel.route(readdressed(stanza, from, item.jid), from);
  }
}

/** 4.3.1: asks for the presence of the contacts the user is subscribed to. */
function probeContacts(d: PresenceDeps, user: JID, roster: Roster): void {
  for (const item of roster.items.values()) {
    if (hasTo(item)) d.kernel.route(xml('presence', { xmlns: 'jabber:client', type: 'probe', from: user.toString(), to: item.jid }), user);
  }
}

/**
 * This node joined a cluster while these sessions were connected: the contacts on other
 * nodes never heard their presence, nor they the contacts'. Each available session's last
 * presence goes to its contacts again and their presence is probed, as at initial presence
 * (contacts on this node get a duplicate, which RFC 6121 lets a client take as it is).
 */
export function onClusterJoined(d: PresenceDeps, fullJids: readonly string[]): void {
  for (const jid of fullJids) {
    const session = d.kernel.localSession(jid);
    const stanza = session?.presence;
    if (!session || session.closed || !session.available || !stanza) continue;
    const user = session.jid.bare();
    void withRoster(d, user, (roster) => {
      toContacts(d, session.jid, stanza, roster);
      probeContacts(d, user, roster);
    });
  }
}

function unavailable(d: PresenceDeps, session: ClientSession, stanza: Element): void {
  const wasAvailable = session.available;
  const directed = takeDirected(session);
  if (wasAvailable) {
    session.presence = null;
    d.kernel.presenceChanged(session);
  }
  sendUnavailable(d, session.jid, stanza, wasAvailable, directed);
}

/** A session closed: if the client did not say goodbye, the server does it for it (4.5.2). */
export function onSessionClosed(d: PresenceDeps, session: ClientSession): void {
  const wasAvailable = session.available;
  const directed = takeDirected(session);
  if (!wasAvailable && !directed.length) return;
  session.presence = null;
  const stanza = xml('presence', { xmlns: 'jabber:client', type: 'unavailable', from: session.jid.toString() });
  sendUnavailable(d, session.jid, stanza, wasAvailable, directed);
}

/** A session on a node that left the cluster: its contacts hear it went unavailable (4.5.2). */
export function onSessionLost(d: PresenceDeps, jid: JID, wasAvailable: boolean): void {
  if (!wasAvailable) return;
  const stanza = xml('presence', { xmlns: 'jabber:client', type: 'unavailable', from: jid.toString() });
  sendUnavailable(d, jid, stanza, true, []);
}

/**
 * 4.5.2: unavailable presence goes to the account's other resources and its subscribed
 * contacts if the session had been available, and to everyone it sent directed presence to.
 */
function sendUnavailable(d: PresenceDeps, from: JID, stanza: Element, broadcast: boolean, directed: string[]): void {
  const { kernel } = d;
  const user = from.bare();
  if (broadcast) kernel.route(readdressed(stanza, from, user.toString()), from);
  if (!broadcast && !directed.length) return;
  const told = new Set<string>();
  void withRoster(d, user, (roster) => {
    if (!broadcast) return;
    for (const item of roster.items.values()) {
      if (!hasFrom(item)) continue;
      kernel.route(readdressed(stanza, from, item.jid), from);
      told.add(item.jid);
    }
  }).then(() => {
    for (const target of directed) {
      // A contact already told at its bare JID hears of it on every resource.
      if (!told.has(bareOf(target))) kernel.route(readdressed(stanza, from, target), from);
    }
  });
}

/** Runs `fn` with the user's roster; a storage failure is logged and skips it. */
async function withRoster(d: PresenceDeps, user: JID, fn: (roster: Roster) => void): Promise<void> {
  try {
    fn(await d.store.load(user.local));
  } catch (err) {
    d.log.error('presence broadcast without roster', { user: user.toString(), error: err instanceof Error ? err.message : String(err) });
  }
}

/** The stored request, as the contact sent it; a bare one if it cannot be read back. */
function pendingRequest(item: RosterItem, user: JID): Element {
  if (item.askInStanza) {
    try {
      return parseXml(item.askInStanza);
    } catch {
      // fall through to a request without the extras the contact sent
    }
  }
  return xml('presence', { xmlns: 'jabber:client', type: 'subscribe', from: item.jid, to: user.toString() });
}

function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}
