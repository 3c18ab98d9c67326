// One client stream's life (RFC 6120): header checks, STARTTLS, SASL, resource binding,
// then stanzas handed to the router. Transport-agnostic: TCP, BOSH and WebSocket all drive
// it through the Transport interface.
import { randomBytes } from 'node:crypto';
import { JID } from '../jid/jid.ts';
import { prepareResource } from '../jid/prep.ts';
import type { Logger } from '../log.ts';
import type { StreamDeps } from './stream-deps.ts';
import { ClientSession } from '../session/client-session.ts';
import type { Transport, TransportEvents } from '../transport/transport.ts';
import { Fifo } from '../util/fifo.ts';
import { Element, xml, type Attrs } from '../xml/element.ts';
import { NS_STREAMS, NS_STREAM_ERRORS, StanzaError, StreamError, errorReply } from '../xml/errors.ts';
import { SaslNegotiation } from './sasl-negotiation.ts';
import { InactiveHold, NS_CSI } from './csi/inactive-hold.ts';
import { parseCount } from './sm/handled-count.ts';
import { NS_SM, type StreamManagement } from './sm/stream-management.ts';

export const NS_CLIENT = 'jabber:client';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

type State = 'opening' | 'negotiating' | 'authenticated' | 'bound' | 'closed';

/** Payload of the `stream/preauth-iq` event (in-band registration before login). */
export interface PreauthIqEvent {
  stanza: Element;
  secure: boolean;
  /** The peer's IP address, for per-address limits on account creation. */
  remoteAddress: string;
  reply(el: Element): void;
}

export class ClientStream implements TransportEvents {
  private state: State = 'opening';
  private readonly id = randomBytes(8).toString('hex');
  private username: string | null = null;
  private session: ClientSession | null = null;
  /** Stream management (XEP-0198), once enabled on this stream or resumed onto it. */
  private sm: StreamManagement | null = null;
  private sasl: SaslNegotiation | null = null;
  private negotiationTimer: NodeJS.Timeout | null;
  /** Input that arrived while an async step (SASL, STARTTLS) was running; replayed in order. */
  private readonly backlog = new Fifo<() => void | Promise<void>>();
  /** Why the stream ended, for the log line of its session's end; unset: the connection dropped. */
  private endReason: string | null = null;
  private busy = false;
  private readonly log: Logger;

  constructor(
    private readonly transport: Transport,
    private readonly server: StreamDeps,
  ) {
    this.log = server.log.child('c2s');
    const core = server.core;
    transport.setMaxStanzaSize(core.stanzaMaxBytesPreauth.value);
    transport.shapeInput(core.c2sShaperRate.value, core.c2sShaperBurst.value);
    transport.setHandler(this);
    this.negotiationTimer = setTimeout(() => {
      this.fail(new StreamError('connection-timeout', 'Negotiation took too long'));
    }, core.c2sNegotiationTimeout.value * 1000);
    // Connections are counted per address by the transports, from accept.
    if (!transport.admitted) {
      this.state = 'negotiating';
      queueMicrotask(() => this.fail(new StreamError('policy-violation', 'Too many connections from your address')));
    }
  }

  // ---- transport events -------------------------------------------------------------

  streamStart(attrs: Attrs): void {
    this.serially(() => this.onStreamStart(attrs));
  }

  stanza(el: Element): void {
    this.serially(() => this.onElement(el));
  }

  streamEnd(): void {
    this.serially(() => {
      this.endReason ??= 'logged out';
      this.state = 'closed';
      this.transport.close();
    });
  }

  error(err: StreamError): void {
    this.fail(err);
  }

  /** Called exactly once by the transport when the connection is gone. */
  closed(): void {
    if (this.negotiationTimer) clearTimeout(this.negotiationTimer);
    this.negotiationTimer = null;
    this.state = 'closed';
    this.backlog.clear();
    const session = this.session;
    // A session resumed on another stream is that stream's now.
    if (!session || !session.carriedBy(this.transport)) return;
    const closedWith = session.closedWith ? `stream error ${session.closedWith.condition}` : null;
    const reason = this.endReason ?? closedWith ?? 'connection lost';
    const sm = this.sm;
    if (!sm) {
      this.server.sessions.unbind(session, reason);
    } else if (this.endReason === null && closedWith === null && !session.closed && sm.resumable && !sm.overflowed) {
      // The connection dropped without a goodbye: XEP-0198 lets the client come back for it.
      this.server.resumable.detach(session, sm);
    } else {
      this.server.resumable.end(session, sm, reason);
    }
  }

  // ---- serialization of input ---------------------------------------------------------

  private serially(step: () => void | Promise<void>): void {
    if (this.busy) {
      if (this.state === 'closed') return;
      // A client may pipeline a little, but a stream that keeps sending while its SASL
      // failure delay runs must not make the server hold its input without bound.
      if (this.backlog.length >= this.server.core.c2sQueueMaxElements.value) {
        this.backlog.clear();
        this.fail(new StreamError('policy-violation', 'Too much input sent ahead of the server\'s answers'));
        return;
      }
      this.backlog.push(step);
      return;
    }
    const out = step();
    if (out instanceof Promise) {
      this.busy = true;
      out.catch((err) => {
        this.log.error('stream step failed', { error: err instanceof Error ? err.stack : String(err) });
        this.fail(new StreamError('internal-server-error'));
      }).finally(() => {
        this.busy = false;
        // Drain in order; a step that goes async again leaves the rest queued behind it.
        while (!this.busy && this.backlog.length) this.serially(this.backlog.shift()!);
      });
    }
  }

  // ---- stream header -----------------------------------------------------------------

  private headerSent = false;

  private onStreamStart(attrs: Attrs): void {
    if (this.state === 'closed') return;
    const domain = this.server.domain;
    this.sendHeader();
    if (attrs.xmlns !== NS_CLIENT) {
      return this.fail(new StreamError('invalid-namespace', `Default namespace must be ${NS_CLIENT}`));
    }
    if (attrs.to !== undefined && JID.tryParse(attrs.to)?.toString() !== domain) {
      return this.fail(new StreamError('host-unknown', `This server serves ${domain}`));
    }
    const version = attrs.version ?? '';
    if (!/^1\.\d+$/.test(version)) {
      return this.fail(new StreamError('unsupported-version', 'Only version 1.0 streams are supported'));
    }
    if (this.state === 'opening') this.state = 'negotiating';
    this.transport.send(this.features());
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.transport.openStream({ from: this.server.domain, id: this.id, version: '1.0', 'xml:lang': 'en' });
  }

  private features(): Element {
    const features = xml('stream:features');
    const secure = this.transport.secure;
    const authenticated = this.state === 'authenticated';
    if (!authenticated) {
      const tlsRequired = this.tlsRequired();
      if (!secure && this.transport.canStartTls) {
        features.append(xml('starttls', { xmlns: NS_TLS }, tlsRequired ? xml('required') : undefined));
      }
      if (!tlsRequired) {
        const mechs = features.c('mechanisms', { xmlns: NS_SASL });
        for (const name of SaslNegotiation.offered(secure || this.server.config.allowPlaintextAuth)) {
          mechs.c('mechanism').t(name);
        }
      }
    } else {
      features.append(xml('bind', { xmlns: NS_BIND }), xml('session', { xmlns: NS_SESSION }, xml('optional')));
      // BOSH has its own acknowledgements and outlives its connections already (XEP-0206).
      if (this.transport.kind !== 'bosh') features.append(xml('sm', { xmlns: NS_SM }));
      features.append(xml('csi', { xmlns: NS_CSI }));
    }
    for (const provider of this.server.streamFeatures) provider(features, { secure, authenticated });
    return features;
  }

  /** STARTTLS is required before SASL where it can be offered and configuration says so. */
  private tlsRequired(): boolean {
    return this.server.config.c2s.requireTls && !this.transport.secure && this.transport.canStartTls;
  }

  // ---- elements ----------------------------------------------------------------------

  private onElement(el: Element): void | Promise<void> {
    if (el.localName === 'error' && el.getNS() === NS_STREAMS) return this.peerFailed(el);
    // After a resumption elsewhere, what still arrives here is no longer the session's.
    if (this.state === 'bound' && !this.session!.carriedBy(this.transport)) return;
    const ns = el.attrs.xmlns;
    if (ns === NS_SM && (this.state === 'authenticated' || this.state === 'bound')) return this.onSmElement(el);
    if (ns === NS_CSI && this.state === 'bound') return this.onClientState(el);
    switch (this.state) {
      case 'negotiating': return this.onNegotiationElement(el);
      case 'authenticated': return this.onBindElement(el);
      case 'bound': return this.onStanza(el);
      case 'opening':
        return this.fail(new StreamError('not-well-formed', 'Expected a stream header'));
      case 'closed': return;
    }
  }

  private onNegotiationElement(el: Element): void | Promise<void> {
    const ns = el.getNS();
    if (ns === NS_TLS && el.name === 'starttls') return this.startTls();
    if (ns === NS_SASL) {
      if (this.tlsRequired()) {
        this.transport.send(xml('failure', { xmlns: NS_SASL }, xml('encryption-required')));
        return this.fail(new StreamError('policy-violation', 'Use STARTTLS before authenticating'));
      }
      if (el.name === 'auth' && !this.server.health.acceptingLogins) return this.refuseWhilePaused();
      this.sasl ??= new SaslNegotiation(this.server, this.transport, this.log);
      return this.sasl.handle(el).then((result) => {
        if (result.kind === 'success') return this.authenticated(result.username);
        if (result.kind === 'too-many-failures') {
          this.fail(new StreamError('policy-violation', 'Too many failed authentication attempts'));
        }
      });
    }
    if (el.name === 'iq' && ns === NS_CLIENT) return this.preauthIq(el);
    if (ns === NS_CLIENT && (el.name === 'message' || el.name === 'presence')) {
      return this.fail(new StreamError('not-authorized', 'Authenticate first'));
    }
    return this.fail(new StreamError('unsupported-stanza-type', `Unexpected <${el.name}/> before authentication`));
  }

  private startTls(): Promise<void> | void {
    if (this.transport.secure || !this.transport.canStartTls) {
      this.transport.send(xml('failure', { xmlns: NS_TLS }));
      return this.fail(new StreamError('undefined-condition', 'TLS is not available on this stream'));
    }
    this.transport.send(xml('proceed', { xmlns: NS_TLS }));
    // The peer restarts the stream over TLS: a new header and features follow.
    this.headerSent = false;
    this.state = 'opening';
    return this.transport.startTls().catch((err) => {
      this.log.info('TLS handshake failed', { address: this.transport.remoteAddress, error: err });
      this.state = 'closed';
      this.transport.close();
    });
  }

  /** A paused node (a critical dependency such as the database is down) refuses logins, saying why. */
  private refuseWhilePaused(): void {
    this.server.stats.loginFailures++;
    const reason = this.server.health.status.reason ?? 'The server is paused';
    this.transport.send(xml('failure', { xmlns: NS_SASL }, xml('temporary-auth-failure'),
      xml('text', { 'xml:lang': 'en' }, `Logins are paused: ${reason}. Try again later.`)));
  }

  /** In-band registration (XEP-0077) is the only IQ allowed before authentication. */
  private preauthIq(el: Element): void {
    const event: PreauthIqEvent = {
      stanza: el,
      secure: this.transport.secure,
      remoteAddress: this.transport.remoteAddress,
      reply: (r) => this.transport.send(r),
    };
    if (!this.server.events.fire('stream/preauth-iq', event)) {
      this.fail(new StreamError('not-authorized', 'Authenticate first'));
    }
  }

  private authenticated(username: string): void {
    this.username = username;
    this.state = 'authenticated';
    this.headerSent = false;
    this.sasl = null;
    this.transport.setMaxStanzaSize(this.server.core.stanzaMaxBytes.value);
    this.transport.restart();
  }

  private onBindElement(el: Element): void {
    const bind = el.name === 'iq' && el.attrs.type === 'set' ? el.getChild('bind', NS_BIND) : undefined;
    if (!bind) {
      if (el.name === 'iq' && el.getChild('session', NS_SESSION)) {
        // Legacy session before bind is out of order, but harmless: accept it.
        this.transport.send(xml('iq', { type: 'result', id: el.attrs.id }));
        return;
      }
      return this.fail(new StreamError('not-authorized', 'Bind a resource first'));
    }
    const requested = bind.getChildText('resource');
    let resource: string | null;
    // Absent or blank: the server picks one (RFC 6120 7.6). Anything else is prepared as
    // RFC 7622 says, not trimmed: trim() also removed characters (U+FEFF) that must be refused.
    if (requested === undefined || /^[ \t\r\n]*$/.test(requested)) {
      resource = randomBytes(6).toString('hex');
    } else {
      resource = prepareResource(requested);
      if (resource === null) {
        this.transport.send(errorReply(el, new StanzaError('bad-request', 'Invalid resource')));
        return;
      }
    }
    const jid = JID.fromPrepared(this.username!, this.server.domain, resource);
    const limit = this.server.core.sessionMaxPerUser.value;
    if (!this.server.sessions.admits(jid, limit)) {
      // RFC 6120 7.6.2.1. The stream stays open and unbound: the client may close it or
      // try again once another session has ended (the negotiation timeout still runs).
      this.log.info('bind refused: session limit reached', { jid: jid.bareString(), limit, address: this.transport.remoteAddress });
      this.transport.send(errorReply(el, new StanzaError('resource-constraint', `An account may have at most ${limit} sessions at once`)));
      return;
    }
    const session = new ClientSession(this.id, jid, this.transport, this.server.stats);
    this.session = session;
    this.state = 'bound';
    if (this.negotiationTimer) clearTimeout(this.negotiationTimer);
    this.negotiationTimer = null;
    this.server.sessions.bind(session);
    this.unshapeAdministrators(jid);
    this.server.stats.logins++;
    this.log.info('client logged in', { jid: jid.toString(), transport: this.transport.kind, address: this.transport.remoteAddress });
    session.send(xml('iq', { type: 'result', id: el.attrs.id }, xml('bind', { xmlns: NS_BIND }, xml('jid', null, jid.toString()))));
  }

  /** Administrators are trusted not to flood, and may need to send a lot (bulk changes). */
  private unshapeAdministrators(jid: JID): void {
    if (isListed(this.server.core.adminJids.value, jid.bareString())) this.transport.shapeInput(0, 0);
  }

  private onStanza(el: Element): void {
    const session = this.session!;
    const kind = el.name;
    if ((kind !== 'message' && kind !== 'presence' && kind !== 'iq') || el.attrs.xmlns !== NS_CLIENT) {
      return this.fail(new StreamError('unsupported-stanza-type', `<${el.name}/> is not a stanza`));
    }
    // Handled from here on, whether it is routed or answered with an error (XEP-0198 4).
    this.sm?.received();
    const from = el.attrs.from;
    if (from !== undefined && from !== session.jid.toString()) {
      const parsed = JID.tryParse(from);
      if (!parsed || !(parsed.equals(session.jid) || parsed.equals(session.jid.bare()))) {
        return this.fail(new StreamError('invalid-from', 'The from address does not match this stream'));
      }
    }
    el.attrs.from = session.jid.toString();
    this.server.stats.stanzasIn[kind]++;
    if (kind === 'iq' && !this.validIq(el)) return;
    if (kind === 'presence' && !validPresenceType(el.attrs.type)) {
      session.send(errorReply(el, new StanzaError('bad-request', `Unknown presence type '${el.attrs.type}'`)));
      return;
    }
    if (kind === 'iq' && el.getChild('session', NS_SESSION) && el.attrs.to === undefined) {
      session.send(xml('iq', { type: 'result', id: el.attrs.id }));
      return;
    }
    this.server.router.route(el, session.jid, session);
  }

  /** RFC 6120 8.2.3: id and type are required; get/set carry exactly one payload. */
  private validIq(el: Element): boolean {
    const type = el.attrs.type;
    let problem: string | null = null;
    if (el.attrs.id === undefined) problem = 'IQ without id';
    else if (type !== 'get' && type !== 'set' && type !== 'result' && type !== 'error') problem = 'IQ type must be get, set, result or error';
    else if ((type === 'get' || type === 'set') && el.getChildElements().length !== 1) problem = 'IQ get/set must have exactly one child element';
    if (problem === null) return true;
    if (type !== 'error' && type !== 'result') this.session!.send(errorReply(el, new StanzaError('bad-request', problem)));
    return false;
  }

  // ---- stream management (XEP-0198) and client state (XEP-0352) ----------------------

  private onSmElement(el: Element): void | Promise<void> {
    const resumable = this.server.resumable;
    switch (el.name) {
      case 'enable': {
        if (this.transport.kind === 'bosh') return this.smFailed('feature-not-implemented');
        // XEP-0198 3: only once, and only after binding (a resumption replaces binding).
        if (this.state !== 'bound' || this.sm) return this.smFailed('unexpected-request');
        const wantsResume = el.attrs.resume === 'true' || el.attrs.resume === '1';
        const props = resumable.properties;
        const asked = parseCount(el.attrs.max);
        const seconds = wantsResume ? Math.min(asked || props.resumeTimeout.value, props.resumeTimeoutMax.value) : null;
        this.sm = resumable.enable(this.session!, this.username!, seconds);
        const id = this.sm.settings.id;
        this.transport.send(xml('enabled', id === null ? { xmlns: NS_SM } : { xmlns: NS_SM, id, resume: 'true', max: String(seconds) }));
        return;
      }
      case 'resume':
        if (this.transport.kind === 'bosh') return this.smFailed('feature-not-implemented');
        if (this.state !== 'authenticated') return this.smFailed('unexpected-request');
        return this.resume(el);
      case 'r':
        if (!this.sm) return this.fail(new StreamError('unsupported-stanza-type', 'Stream management is not enabled'));
        this.sm.answerRequest();
        return;
      case 'a': {
        if (!this.sm) return this.fail(new StreamError('unsupported-stanza-type', 'Stream management is not enabled'));
        const h = parseCount(el.attrs.h);
        if (h !== null && this.sm.acked(h) === 'ok') return;
        return this.countRefused(h, this.sm);
      }
      default:
        return this.fail(new StreamError('unsupported-stanza-type', `<${el.name}/> is not a stream management element`));
    }
  }

  /**
   * XEP-0198 4 (v1.6): an ack of more than was sent, or no count at all, is answered with
   * <failed/> saying what was sent, then the stream ends with undefined-condition.
   */
  private countRefused(h: number | null, sm: StreamManagement): void {
    this.transport.send(countFailure(h, { inbound: sm.inbound, sent: sm.queue.sent }));
    this.fail(new StreamError('undefined-condition', h === null ? 'The ack has no valid h' : 'The ack counts more stanzas than were sent'));
  }

  private smFailed(condition: string, h?: number): void {
    this.transport.send(xml('failed', h === undefined ? { xmlns: NS_SM } : { xmlns: NS_SM, h: String(h) }, xml(condition, { xmlns: NS_STANZAS })));
  }

  /** <resume previd= h=/> in place of binding: the detached (or still connected) session moves here. */
  private resume(el: Element): void | Promise<void> {
    const resumable = this.server.resumable;
    const previd = el.attrs.previd ?? '';
    const h = parseCount(el.attrs.h);
    const found = resumable.find(previd, this.username!);
    if (!found) {
      if (h === null) return this.smFailed('item-not-found');
      return this.server.handover.takeOver(previd, this.username!, h, this.transport, this.id).then((result) => {
        if (result.kind === 'not-found') return this.smFailed('item-not-found');
        if (result.kind === 'bad-count') {
          this.transport.send(countFailure(h, { inbound: result.inbound, sent: result.sent }));
          return;
        }
        // The connection dropped while the other node answered: the session waits here now.
        if (this.state === 'closed') return resumable.detach(result.session, result.sm);
        this.adopt(result.session, result.sm, previd);
      });
    }
    const { session, sm } = found;
    if (h === null || sm.acked(h) === 'too-high') {
      this.transport.send(countFailure(h, { inbound: sm.inbound, sent: sm.queue.sent }));
      // The client cannot know what it has: the session ends as it would at its timeout.
      if (session.detached) resumable.end(session, sm, 'resumption with a bad count');
      else session.close(new StreamError('undefined-condition', 'A resumption of this session gave a bad count'));
      return;
    }
    const previous = session.attach(this.transport);
    // XEP-0198 5: the old connection may still look alive; the resumed stream replaces it.
    previous?.close(new StreamError('conflict', 'The session was resumed on another connection'));
    this.adopt(session, sm, previd);
  }

  /** The resumed session is this stream's: <resumed/>, then what the client had not acknowledged. */
  private adopt(session: ClientSession, sm: StreamManagement, previd: string): void {
    this.session = session;
    this.sm = sm;
    this.state = 'bound';
    if (this.negotiationTimer) clearTimeout(this.negotiationTimer);
    this.negotiationTimer = null;
    this.server.resumable.resumed(sm);
    this.unshapeAdministrators(session.jid);
    // A client that reconnects is in front of its user: what was held goes out now.
    const hold = session.hold;
    session.hold = null;
    session.sendNonza(xml('resumed', { xmlns: NS_SM, previd, h: String(sm.inbound) }));
    for (const stanza of sm.queue.pending()) session.resend(stanza);
    hold?.flush();
    sm.resumed();
    this.log.info('client resumed its session', {
      jid: session.jid.toString(), transport: this.transport.kind, address: this.transport.remoteAddress, resent: sm.queue.length,
    });
  }

  /** <inactive/> and <active/> (XEP-0352). */
  private onClientState(el: Element): void {
    const session = this.session!;
    if (el.name === 'inactive') {
      const max = this.server.resumable.properties.csiMaxHeld;
      session.hold ??= new InactiveHold(session, () => max.value);
    } else if (el.name === 'active') {
      const hold = session.hold;
      session.hold = null;
      hold?.flush();
    } else {
      this.fail(new StreamError('unsupported-stanza-type', `<${el.name}/> is not a client state`));
    }
  }

  // ---- ending ------------------------------------------------------------------------

  /** RFC 6120 4.9.1: a stream error from the peer ends the stream; we close ours, saying nothing more. */
  private peerFailed(el: Element): void {
    if (this.state === 'closed') return;
    const condition = el.getChildElements().find((c) => c.getNS() === NS_STREAM_ERRORS)?.localName ?? 'undefined-condition';
    this.log.info('client ended its stream with an error', { condition, jid: this.session?.jid.toString(), address: this.transport.remoteAddress });
    this.endReason ??= `client stream error ${condition}`;
    this.sendHeader();
    this.state = 'closed';
    this.transport.close();
  }

  /** Sends a stream error (opening our stream first if we had not) and closes. */
  private fail(err: StreamError): void {
    if (this.state === 'closed') return;
    this.log.debug('stream error', { condition: err.condition, text: err.text, address: this.transport.remoteAddress });
    this.endReason ??= `stream error ${err.condition}`;
    this.sendHeader();
    this.state = 'closed';
    this.transport.close(err);
  }
}

/** <failed/> for a count that is missing or beyond what was sent (XEP-0198 v1.6, section 4). */
function countFailure(h: number | null, counts: { inbound: number; sent: number }): Element {
  const failed = xml('failed', { xmlns: NS_SM, h: String(counts.inbound) }, xml('undefined-condition', { xmlns: NS_STANZAS }));
  if (h !== null) failed.append(xml('handled-count-too-high', { xmlns: NS_SM, h: String(h), 'send-count': String(counts.sent) }));
  return failed;
}

/** Whether a bare JID is in a list such as admin.jids (entries separated by commas or spaces). */
function isListed(list: string, bare: string): boolean {
  return list.split(/[\s,]+/).some((entry) => entry !== '' && JID.tryParse(entry)?.toString() === bare);
}

function validPresenceType(type: string | undefined): boolean {
  return type === undefined || type === 'unavailable' || type === 'subscribe' || type === 'subscribed'
    || type === 'unsubscribe' || type === 'unsubscribed' || type === 'probe' || type === 'error';
}
