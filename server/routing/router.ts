// The router turns each stanza into one named event (see stanza-event.ts) and delivers to
// full JIDs through the RoutingTable and, for sessions on other nodes, the ClusterManager.
// It knows addresses; features live in modules that hook the events.
import { randomBytes } from 'node:crypto';
import type { ClusterManager } from '../cluster/cluster-manager.ts';
import type { EventBus } from '../events/event-bus.ts';
import { JID } from '../jid/jid.ts';
import type { Logger } from '../log.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { SessionManager } from '../session/session-manager.ts';
import { addressedCopy, addressedTemplate } from '../xml/addressed-copies.ts';
import type { Element } from '../xml/element.ts';
import { StanzaError, errorReply } from '../xml/errors.ts';
import { iqEventName, serviceEventName, type StanzaEvent } from './stanza-event.ts';

export interface RouterStats {
  routed: number;
  delivered: number;
}

/** One stanza in this many is timed: enough for a latency distribution, cheap on the hot path. */
const LATENCY_SAMPLE_EVERY = 16;

interface PendingIq {
  resolve(el: Element): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class Router {
  readonly stats: RouterStats = { routed: 0, delivered: 0 };
  private readonly pendingIqs = new Map<string, PendingIq>();
  readonly domainJid: JID;
  /**
   * Receives the time (seconds) the router spent on a sampled stanza, from route() to the
   * end of its synchronous handling (delivery to a local session included; storage lookups,
   * which finish later, are not). Set by the metrics endpoint; null costs nothing.
   */
  latencyObserver: ((seconds: number) => void) | null = null;

  constructor(
    readonly domain: string,
    private readonly events: EventBus,
    private readonly sessions: SessionManager,
    private cluster: ClusterManager,
    private readonly log: Logger,
  ) {
    this.domainJid = JID.fromPrepared('', domain);
  }

  setClusterManager(cluster: ClusterManager): void {
    this.cluster = cluster;
  }

  /**
   * Routes a stanza whose 'from' is already stamped. `from` may be passed to skip parsing
   * it again; `origin` is the local session that sent it, if any.
   */
  route(stanza: Element, from?: JID, origin: ClientSession | null = null): void {
    const observer = ++this.stats.routed % LATENCY_SAMPLE_EVERY === 0 ? this.latencyObserver : null;
    if (observer === null) {
      this.dispatch(stanza, from, origin);
      return;
    }
    const started = performance.now();
    this.dispatch(stanza, from, origin);
    observer((performance.now() - started) / 1000);
  }

  private dispatch(stanza: Element, from: JID | undefined, origin: ClientSession | null): void {
    const sender = from ?? JID.tryParse(stanza.attrs.from) ?? this.domainJid;
    const kind = stanza.name;
    let to: JID;
    const rawTo = stanza.attrs.to;
    if (rawTo === undefined) {
      if (kind === 'presence') {
        if (origin) this.fire('presence/broadcast', stanza, sender, sender.bare(), origin);
        return;
      }
      to = sender.bare();
    } else {
      const parsed = JID.tryParse(rawTo);
      if (!parsed) {
        this.bounce(stanza, new StanzaError('jid-malformed', `invalid 'to' address: ${rawTo}`));
        return;
      }
      to = parsed;
    }
    const event: StanzaEvent = { stanza, from: sender, to, origin };
    if (this.events.fire('stanza/pre-route', event)) return;

    if (to.domain !== this.domain) {
      // A service of this server on a subdomain (proxy.<domain>) takes everything sent to it.
      if (to.domain.endsWith(`.${this.domain}`) && this.events.has(serviceEventName(to.domain))) {
        this.routeToService(event);
        return;
      }
      // No server-to-server yet: every other domain is unreachable.
      this.bounce(stanza, new StanzaError('remote-server-not-found', `no route to ${to.domain}`));
      return;
    }
    const target = to.local === '' ? (to.resource === '' ? 'host' : 'full') : to.resource === '' ? 'bare' : 'full';
    if (kind === 'iq') this.routeIq(event, target);
    else if (kind === 'message' || kind === 'presence') this.events.fire(`${kind}/${target}`, event);
  }

  /** An IQ get or set the service does not take is answered service-unavailable, as for the server itself. */
  private routeToService(event: StanzaEvent): void {
    const { stanza } = event;
    const type = stanza.attrs.type;
    if (this.events.fire(serviceEventName(event.to.domain), event)) return;
    if (stanza.name === 'iq' && (type === 'get' || type === 'set')) this.bounce(stanza, new StanzaError('service-unavailable', undefined));
  }

  private routeIq(event: StanzaEvent, target: 'host' | 'bare' | 'full'): void {
    const stanza = event.stanza;
    const type = stanza.attrs.type;
    if (target === 'full') {
      this.events.fire('iq/full', event);
      return;
    }
    if (type === 'result' || type === 'error') {
      if (target === 'host') this.resolvePendingIq(stanza);
      else this.events.fire('iq/result', event);
      return;
    }
    const payload = stanza.getChildElements()[0];
    const xmlns = payload?.getNS() ?? '';
    if (!this.events.fire(iqEventName(target, type ?? '', xmlns), event)) {
      this.bounce(stanza, new StanzaError('service-unavailable', undefined));
    }
  }

  private fire(name: string, stanza: Element, from: JID, to: JID, origin: ClientSession | null): boolean {
    return this.events.fire<StanzaEvent>(name, { stanza, from, to, origin });
  }

  /**
   * Delivers to one full JID wherever it lives. Returns false if there is no such session,
   * so the caller applies the RFC 6121 fallback for its stanza kind.
   */
  deliverToFull(fullJid: string, stanza: Element): boolean | Promise<boolean> {
    const local = this.sessions.get(fullJid);
    if (local) {
      this.stats.delivered++;
      local.send(stanza);
      return true;
    }
    const route = this.sessions.routingTable.getRoute(fullJid);
    if (!route || route.nodeId === this.cluster.nodeId) return false;
    return this.cluster.sendToNode(route.nodeId, fullJid, stanza);
  }

  /**
   * Delivers one stanza to many full JIDs, each copy with its own `to`, wherever each is
   * connected: serialized once, written to local sessions as text, and sent to each other
   * node in one frame for all its recipients. Resolves with the recipients not reached (no
   * such session anywhere, a refusing session, an unreachable node), in no particular order.
   */
  async deliverEach(stanza: Element, recipients: readonly string[]): Promise<string[]> {
    const template = addressedTemplate(stanza);
    const missed: string[] = [];
    const remote = new Map<string, string[]>();
    for (const to of new Set(recipients)) {
      const local = this.sessions.get(to);
      if (local) {
        if (local.sendSerialized(addressedCopy(template, to))) this.stats.delivered++;
        else missed.push(to);
        continue;
      }
      const route = this.sessions.routingTable.getRoute(to);
      if (!route || route.nodeId === this.cluster.nodeId) {
        missed.push(to);
        continue;
      }
      const there = remote.get(route.nodeId);
      if (there) there.push(to);
      else remote.set(route.nodeId, [to]);
    }
    const cluster = this.cluster;
    const answers = await Promise.all([...remote].map(([nodeId, jids]) => cluster.sendEachToNode(nodeId, jids, template)));
    for (const notTaken of answers) missed.push(...notTaken);
    return missed;
  }

  /** Sends an error reply to the sender of a stanza, unless that would answer an error. */
  bounce(stanza: Element, error: StanzaError): void {
    if (stanza.attrs.type === 'error' || stanza.attrs.from === undefined) return;
    if (stanza.name === 'presence' && stanza.attrs.type !== undefined && stanza.attrs.type !== 'probe') {
      // Subscription-related presence errors are not bounced (RFC 6121 3.1.x): drop.
      return;
    }
    this.route(errorReply(stanza, error), this.domainJid);
  }

  /** Sends an IQ from the server and resolves with the answer (result or error). */
  sendIq(iq: Element, timeoutMs = 30_000): Promise<Element> {
    const id = iq.attrs.id ?? (iq.attrs.id = randomBytes(6).toString('hex'));
    iq.attrs.from = this.domain;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingIqs.delete(id);
        reject(new Error(`no answer to IQ ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingIqs.set(id, { resolve, reject, timer });
      this.route(iq, this.domainJid);
    });
  }

  private resolvePendingIq(stanza: Element): void {
    const id = stanza.attrs.id;
    const pending = id === undefined ? undefined : this.pendingIqs.get(id);
    if (!pending) return;
    this.pendingIqs.delete(id!);
    clearTimeout(pending.timer);
    pending.resolve(stanza);
  }

  /** Logs and swallows errors of async handlers that have nobody else to tell. */
  reportError(context: string, err: unknown): void {
    this.log.error(context, { error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
}
