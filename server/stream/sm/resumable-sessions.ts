// This node's sessions with stream management: the resumable ones by id, the detached ones
// with their resumption deadline, and what happens to a session's unacknowledged stanzas
// when it ends for good (XEP-0198 section 5: they are treated as never delivered).
import { randomBytes } from 'node:crypto';
import type { EventBus } from '../../events/event-bus.ts';
import { JID } from '../../jid/jid.ts';
import type { Logger } from '../../log.ts';
import type { Router } from '../../routing/router.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { ClientSession } from '../../session/client-session.ts';
import type { SessionManager } from '../../session/session-manager.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError, StreamError } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import type { SmProperties } from './sm-properties.ts';
import { COUNT_MODULUS } from './handled-count.ts';
import type { SessionReplicas } from './session-replicas.ts';
import { StreamManagement } from './stream-management.ts';

/** What a session's stream management carries when it moves to another node. */
export interface CarriedState {
  id: string;
  /** Stanzas sent so far, modulo 2^32, and received. */
  sent: number;
  inbound: number;
  /** The unacknowledged stanzas, oldest first, serialized. */
  queued: string[];
}

export interface ResumableSessionsDeps {
  nodeId: string;
  properties: SmProperties;
  sessions: Pick<SessionManager, 'unbind'>;
  router: Pick<Router, 'bounce'>;
  events: Pick<EventBus, 'fire'>;
  log: Logger;
}

interface Entry {
  session: ClientSession;
  sm: StreamManagement;
  username: string;
  timer: NodeJS.Timeout | null;
}

/** The resumption id carries the node that holds the session, so another node can ask it. */
export function resumptionId(nodeId: string): string {
  return Buffer.from(`${nodeId}\n${randomBytes(12).toString('base64url')}`).toString('base64url');
}

/** The node named in a resumption id, or null if the id is not one of ours. */
export function nodeOfResumptionId(id: string): string | null {
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const cut = text.indexOf('\n');
  return cut > 0 ? text.slice(0, cut) : null;
}

export class ResumableSessions {
  private readonly byId = new Map<string, Entry>();
  /** Where resumable sessions are replicated in a cluster; set once the node has made it. */
  replicas: SessionReplicas | null = null;

  constructor(private readonly deps: ResumableSessionsDeps) {}

  get nodeId(): string {
    return this.deps.nodeId;
  }

  get properties(): SmProperties {
    return this.deps.properties;
  }

  /**
   * Enables stream management on a session (<enable/>); `resumeSeconds` null: no resumption.
   * A session carried over from another node keeps its id, its counts and its queue.
   */
  enable(session: ClientSession, username: string, resumeSeconds: number | null, carried?: CarriedState): StreamManagement {
    const id = carried?.id ?? (resumeSeconds === null ? null : resumptionId(this.deps.nodeId));
    const queued = carried?.queued ?? [];
    const start = carried ? (carried.sent - queued.length + COUNT_MODULUS) % COUNT_MODULUS : 0;
    const sm = new StreamManagement(session, { id, resumeSeconds: resumeSeconds ?? 0 }, this.deps.properties,
      () => this.overflowed(session, sm), start);
    for (const stanza of queued) sm.queue.push(stanza);
    if (carried) sm.inbound = carried.inbound;
    session.sentLog = sm;
    if (id !== null) {
      this.byId.set(id, { session, sm, username, timer: null });
      this.replicas?.track(session, sm, username);
    }
    return sm;
  }

  /** The resumable session of an id, if it belongs to `username`. */
  find(id: string, username: string): { session: ClientSession; sm: StreamManagement } | null {
    const entry = this.byId.get(id);
    return entry && entry.username === username && !entry.session.closed ? entry : null;
  }

  /** The connection of a resumable session dropped: it waits for a resumption until the deadline. */
  detach(session: ClientSession, sm: StreamManagement): void {
    const entry = sm.settings.id === null ? undefined : this.byId.get(sm.settings.id);
    if (!entry) return this.end(session, sm, 'connection lost');
    sm.pause();
    session.detach();
    session.onDetachedClose = (error) => this.end(session, sm, error ? `stream error ${error.condition}` : 'closed while detached');
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.end(session, sm, 'resumption timed out'), sm.settings.resumeSeconds * 1000);
    entry.timer.unref();
    this.deps.log.info('client session detached, waiting for resumption', {
      jid: session.jid.toString(), seconds: sm.settings.resumeSeconds, unacked: sm.queue.length,
    });
  }

  /** A stream took the session over (resumed): its deadline no longer runs. */
  resumed(sm: StreamManagement): void {
    const entry = sm.settings.id === null ? undefined : this.byId.get(sm.settings.id);
    if (entry?.timer) clearTimeout(entry.timer);
    if (entry) entry.timer = null;
  }

  /** Forgets a session without ending it (it moved to another node). */
  release(sm: StreamManagement): void {
    if (sm.settings.id === null) return;
    const entry = this.byId.get(sm.settings.id);
    if (entry?.timer) clearTimeout(entry.timer);
    this.byId.delete(sm.settings.id);
    this.replicas?.untrack(sm);
    sm.pause();
  }

  /**
   * Ends the session for good: it is unbound (unavailable presence goes out then), and its
   * unacknowledged stanzas are handled as RFC 6121 says for a session that is gone.
   */
  end(session: ClientSession, sm: StreamManagement, reason: string): void {
    this.release(sm);
    this.deps.sessions.unbind(session, reason);
    this.settle(session.jid, sm.queue.drain());
  }

  /**
   * Messages a client never acknowledged are kept offline (message/offline, as the delivery
   * rules do for an account with no available resource) or bounced when nothing keeps them;
   * IQ requests get service-unavailable; presence, results and errors are dropped.
   */
  settle(jid: JID, stanzas: (Element | string)[]): void {
    const { events, router } = this.deps;
    for (const sent of stanzas) {
      const stanza = typeof sent === 'string' ? parseXml(sent) : sent;
      stanza.attrs.xmlns ??= 'jabber:client';
      const type = stanza.attrs.type;
      if (stanza.name === 'iq') {
        if (type === 'get' || type === 'set') router.bounce(stanza, new StanzaError('service-unavailable'));
      } else if (stanza.name === 'message' && (type === undefined || type === 'normal' || type === 'chat')) {
        const from = JID.tryParse(stanza.attrs.from);
        if (!from) continue;
        const event: StanzaEvent = { stanza, from, to: jid.bare(), origin: null };
        if (!events.fire('message/offline', event)) router.bounce(stanza, new StanzaError('service-unavailable'));
      }
    }
  }

  private overflowed(session: ClientSession, sm: StreamManagement): void {
    const max = this.deps.properties.maxUnacked.value;
    this.deps.log.info('client did not acknowledge stanzas; ending its session', { jid: session.jid.toString(), max });
    if (session.detached) this.end(session, sm, 'too many unacknowledged stanzas while detached');
    else session.close(new StreamError('resource-constraint', `More than ${max} stanzas were left unacknowledged`));
  }
}
