// One BOSH session (XEP-0124, XEP-0206) as a Transport: the client stream above it sees a
// stream open, stanzas and a close, exactly as over TCP. Underneath, each HTTP request
// carries payloads in and is held until there is something to send back, its 'wait' runs
// out, or a newer request pushes it past 'hold'.
import type { Logger } from '../../log.ts';
import type { TransportLimits } from '../../transport/client-connections.ts';
import type { Transport, TransportEvents } from '../../transport/transport.ts';
import type { Attrs, Element } from '../../xml/element.ts';
import { StreamError } from '../../xml/errors.ts';
import { NS_CLIENT, adoptClientNamespace, serializeStandalone, withClientNamespace } from '../wire-element.ts';
import {
  BoshError, LEGACY_HTTP_STATUS, NS_XBOSH, intAttr, requestId, responseBody, terminalBody, type TerminalCondition,
} from './bosh-body.ts';
import { RequestQueue, type BoshReply, type HeldRequest, type Respond } from './request-queue.ts';
import { RidWindow } from './rid-window.ts';

/** What was negotiated at session creation (XEP-0124 section 7). */
export interface BoshSessionSettings {
  sid: string;
  /** rid of the session creation request. */
  rid: number;
  wait: number;
  hold: number;
  requests: number;
  inactivity: number;
  polling: number;
  maxPause: number;
  /** Version agreed on; null for a legacy client (no 'ver'), which gets HTTP error codes. */
  ver: string | null;
  /** The client sends 'ack' on its requests (it asked with ack='1'). */
  clientAcks: boolean;
  contentType: string;
  /** Stream attributes for the client stream: 'to', 'xml:lang', and xmpp:version. */
  to: string;
  lang: string | undefined;
  streamVersion: string | undefined;
  remoteAddress: string;
  secure: boolean;
}

export interface BoshRequest {
  rid: number;
  body: Element;
  /** UTF-8 length of the HTTP body, to apply the stanza size limit cheaply. */
  bytes: number;
  secure: boolean;
  respond: Respond;
}

type State = 'open' | 'closing' | 'ended';

/** A closed session keeps its final response this long for a client that has no request held. */
const FINAL_RESPONSE_GRACE_MS = 10_000;

export class BoshSession implements Transport {
  readonly kind = 'bosh' as const;
  readonly canStartTls = false;
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly sid: string;
  private handler: TransportEvents | null = null;
  private readonly window: RidWindow;
  private readonly queue = new RequestQueue();
  /** Requests that arrived ahead of a gap in the rids, until the gap is filled. */
  private readonly ahead = new Map<number, BoshRequest>();
  private pending = '';
  private flushScheduled = false;
  private maxStanzaBytes = 10_240;
  private state: State = 'open';
  private closedNotified = false;
  /** The creation request still waits for its response, which carries the session attributes. */
  private creationPending = true;
  private streamId: string | undefined;
  private from: string | undefined;
  /** After SASL success, until the client sends xmpp:restart. */
  private awaitingRestart = false;
  private terminateRequest: BoshRequest | null = null;
  /** The last response of a session that ended while no request was held. */
  private finalBody: BoshReply | null = null;
  private inactivityTimer: NodeJS.Timeout | null = null;
  /** Seconds of inactivity allowed until the next request: 'inactivity', or a requested pause. */
  private inactivitySeconds: number;
  private lastArrival = Date.now();
  private lastResponseEmpty = false;

  constructor(
    private readonly settings: BoshSessionSettings,
    private readonly log: Logger,
    private readonly onEnded: (session: BoshSession) => void,
    private readonly limits: TransportLimits,
    /** False when the address is over xmpp.c2s.max-connections-per-ip. */
    readonly admitted = true,
  ) {
    this.sid = settings.sid;
    this.remoteAddress = settings.remoteAddress;
    this.secure = settings.secure;
    this.window = new RidWindow(settings.rid, settings.requests);
    this.inactivitySeconds = settings.inactivity;
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  // ---- Transport ----------------------------------------------------------------------

  setHandler(events: TransportEvents): void {
    this.handler = events;
  }

  async startTls(): Promise<void> {
    throw new Error('BOSH is encrypted by HTTPS, not STARTTLS');
  }

  /** BOSH has no stream header of its own: its attributes go on the creation response. */
  openStream(attrs: Attrs): void {
    this.streamId ??= attrs.id;
    this.from ??= attrs.from;
  }

  send(el: Element): void {
    this.queueOutput(serializeStandalone(el, false));
  }

  /** Joins the pending output as it is, the stanza's own namespace added if it has none. */
  sendSerialized(xml: string): boolean {
    return this.queueOutput(withClientNamespace(xml));
  }

  private queueOutput(data: string): boolean {
    if (this.state !== 'open') return false;
    // Output waits here while the client holds no request. Checked before adding, so one
    // stanza larger than the cap still reaches a client that polls.
    if (this.pending.length > this.limits.sendQueueMaxBytes) {
      this.close(this.limits.sendQueueOverflow(this, this.pending.length));
      return false;
    }
    this.pending += data;
    this.scheduleFlush();
    return true;
  }

  restart(): void {
    this.awaitingRestart = true;
  }

  /** BOSH input is bounded per request (its body size, hold and requests), not shaped by rate. */
  shapeInput(): void {}

  setMaxStanzaSize(bytes: number): void {
    this.maxStanzaBytes = bytes;
  }

  /** The stream ended (or failed): the last response says so, with any stream error in it. */
  close(error?: StreamError): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    let payloads = this.takePending();
    if (error) payloads += serializeStandalone(error.toElement(), false);
    const final = this.reply(error ? terminalBody('remote-stream-error', payloads) : terminalBody(undefined, payloads));
    const held = this.queue.drain();
    const last = this.terminateRequest?.respond ?? held.pop()?.respond;
    for (const h of held) h.respond(this.reply(responseBody(this.ackAttrs(h.rid), '')));
    this.notifyClosed();
    if (last) {
      last(final);
      this.finish();
    } else {
      this.finalBody = final;
      this.startInactivity(FINAL_RESPONSE_GRACE_MS / 1000);
    }
  }

  // ---- requests -----------------------------------------------------------------------

  /** The session creation request: opens the stream and holds the request for its features. */
  start(request: BoshRequest): void {
    this.lastArrival = Date.now();
    this.queue.add(request.rid, request.respond, this.settings.wait * 1000, this.expire);
    this.handler!.streamStart(this.streamAttrs());
    this.enforceHold();
  }

  /** Any later request of the session. */
  receive(request: BoshRequest): void {
    if (this.state === 'ended') return request.respond(this.errorReply('item-not-found'));
    if (this.finalBody) {
      request.respond(this.finalBody);
      return this.finish();
    }
    // A secure session's requests must all be secure; dropping the connection keeps an
    // attacker from terminating the session (XEP-0124 section 20.1).
    if (this.secure && !request.secure) return request.respond(null);
    const { rid } = request;
    switch (this.window.classify(rid)) {
      case 'repeat': return this.repeat(request);
      case 'outside': return this.fail(request, new BoshError('item-not-found', `rid ${rid} is outside the window`));
      case 'ahead': {
        const previous = this.ahead.get(rid);
        this.ahead.set(rid, request);
        previous?.respond(null);
        this.stopInactivity();
        return;
      }
      case 'next':
        this.process(request);
        for (let next = this.ahead.get(this.window.highest + 1); next && this.state === 'open'; next = this.ahead.get(this.window.highest + 1)) {
          this.ahead.delete(next.rid);
          this.process(next);
        }
    }
  }

  /** The server is shutting down: every held request learns it, and the stream is gone. */
  shutdown(): void {
    if (this.state === 'ended') return;
    const body = this.reply(terminalBody('system-shutdown'));
    for (const h of this.queue.drain()) h.respond(body);
    this.terminateRequest?.respond(body);
    for (const r of this.ahead.values()) r.respond(body);
    this.notifyClosed();
    this.finish();
  }

  private repeat(request: BoshRequest): void {
    const buffered = this.window.response(request.rid);
    if (buffered !== undefined) return request.respond(this.reply(buffered));
    const old = this.queue.replace(request.rid, request.respond);
    if (old) return old(null);
    this.fail(request, new BoshError('item-not-found', `rid ${request.rid} was answered already and its response is no longer kept`));
  }

  private process(request: BoshRequest): void {
    const { body } = request;
    this.window.advance();
    this.stopInactivity();
    this.inactivitySeconds = this.settings.inactivity;
    try {
      this.checkRequest(request);
    } catch (err) {
      if (err instanceof BoshError) return this.fail(request, err);
      throw err;
    }
    const terminating = body.attrs.type === 'terminate';
    const pausing = !terminating && body.attrs.pause !== undefined;
    // Held before its payloads are delivered, so that a stream error they cause is
    // answered on this request, the newest.
    if (terminating) this.terminateRequest = request;
    else if (!pausing) this.queue.add(request.rid, request.respond, this.settings.wait * 1000, this.expire);
    this.deliver(body);
    if (this.state !== 'open') {
      if (pausing) this.respondAfterClose(request);
      return;
    }
    if (terminating) {
      while (this.queue.size) this.respondOldest();
      this.handler!.streamEnd();
    } else if (pausing) {
      // Everything held is answered now; the pause response itself carries no payloads.
      while (this.queue.size) this.respondOldest();
      request.respond(this.reply(responseBody({}, '')));
      this.startInactivity(Math.min(intAttr(body, 'pause', 0), this.settings.maxPause));
    } else {
      this.enforceHold();
      // Output that arrived while no request was held goes out on this one.
      if (this.pending !== '') this.scheduleFlush();
    }
  }

  private deliver(body: Element): void {
    if (this.isRestart(body)) {
      this.awaitingRestart = false;
      this.handler!.streamStart(this.streamAttrs());
      return;
    }
    const payloads = body.getChildElements();
    if (payloads.length === 0) return;
    if (this.awaitingRestart) {
      this.handler!.error(new StreamError('bad-format', "Restart the stream (xmpp:restart='true') after authenticating"));
      return;
    }
    for (const el of payloads) {
      if (this.state !== 'open') return;
      this.handler!.stanza(adoptClientNamespace(el));
    }
  }

  private respondAfterClose(request: BoshRequest): void {
    if (this.finalBody) {
      request.respond(this.finalBody);
      this.finish();
    } else {
      request.respond(this.reply(terminalBody()));
    }
  }

  /** Acknowledgements, size and the over-activity rules of XEP-0124 sections 11 and 12. */
  private checkRequest(request: BoshRequest): void {
    const { body } = request;
    const s = this.settings;
    if (s.clientAcks && body.attrs.ack !== undefined) this.window.acknowledge(requestId(body, 'ack'));
    if (body.attrs.pause !== undefined && (s.maxPause === 0 || intAttr(body, 'pause', 0) === 0)) {
      throw new BoshError('bad-request', s.maxPause === 0 ? 'pausing is not offered' : "'pause' must be at least 1 second");
    }
    const empty = body.getChildElements().length === 0;
    if (!empty && this.isRestart(body)) throw new BoshError('bad-request', 'a restart request must not carry payloads');
    if (request.bytes > this.maxStanzaBytes) this.checkStanzaSizes(body);
    const now = Date.now();
    const since = now - this.lastArrival;
    this.lastArrival = now;
    if (body.attrs.type === 'terminate' || body.attrs.pause !== undefined) return;
    const unanswered = this.queue.size + this.ahead.size + 1;
    if (s.hold > 0 && unanswered > s.requests) throw new BoshError('policy-violation', 'too many simultaneous requests');
    if (!empty || this.isRestart(body) || since >= s.polling * 1000) return;
    if (s.hold > 0 && unanswered === s.requests) throw new BoshError('policy-violation', 'empty requests sent too frequently');
    if (s.hold === 0 && this.lastResponseEmpty) throw new BoshError('policy-violation', 'polling too frequently');
  }

  /** Only a body larger than the limit can hold a stanza that is: measure each then. */
  private checkStanzaSizes(body: Element): void {
    for (const el of body.getChildElements()) {
      if (Buffer.byteLength(serializeStandalone(el, false)) > this.maxStanzaBytes) {
        throw new BoshError('policy-violation', `stanza exceeds the limit of ${this.maxStanzaBytes} bytes`);
      }
    }
  }

  private isRestart(body: Element): boolean {
    for (const key in body.attrs) {
      const colon = key.indexOf(':');
      if (colon !== -1 && key.slice(colon + 1) === 'restart' && body.attrs['xmlns:' + key.slice(0, colon)] === NS_XBOSH) {
        return body.attrs[key] === 'true' || body.attrs[key] === '1';
      }
    }
    return false;
  }

  private streamAttrs(): Attrs {
    return { xmlns: NS_CLIENT, to: this.settings.to, version: this.settings.streamVersion, 'xml:lang': this.settings.lang };
  }

  // ---- responses ----------------------------------------------------------------------

  /** Answers on the next turn of the event loop, so that output produced meanwhile joins it. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pending !== '' && this.queue.size > 0) this.respondOldest();
  };

  private readonly expire = (): void => {
    this.respondOldest();
  };

  private enforceHold(): void {
    while (this.queue.size > this.settings.hold) this.respondOldest();
  }

  private respondOldest(): void {
    const held = this.queue.shift();
    if (!held) return;
    const payloads = this.takePending();
    const body = responseBody(this.responseAttrs(held), payloads);
    this.window.remember(held.rid, body);
    this.lastResponseEmpty = payloads === '';
    held.respond(this.reply(body));
    if (this.queue.size === 0 && this.ahead.size === 0 && this.state === 'open') this.startInactivity(this.inactivitySeconds);
  }

  private responseAttrs(held: HeldRequest): Attrs {
    if (!this.creationPending) return this.ackAttrs(held.rid);
    this.creationPending = false;
    const s = this.settings;
    return {
      sid: s.sid,
      wait: String(s.wait),
      inactivity: String(s.inactivity),
      polling: String(s.polling),
      requests: String(s.requests),
      hold: String(s.hold),
      ack: String(held.rid),
      maxpause: s.maxPause > 0 ? String(s.maxPause) : undefined,
      ver: s.ver ?? undefined,
      from: this.from,
      authid: this.streamId,
      secure: 'true',
      'xmlns:xmpp': NS_XBOSH,
      'xmpp:version': '1.0',
      'xmpp:restartlogic': 'true',
    };
  }

  /** XEP-0124 section 9.1: 'ack' tells the client of a newer request already received. */
  private ackAttrs(rid: number): Attrs {
    return this.window.highest !== rid ? { ack: String(this.window.highest) } : {};
  }

  private takePending(): string {
    const p = this.pending;
    this.pending = '';
    return p;
  }

  private reply(body: string, status = 200): BoshReply {
    return { status, contentType: this.settings.contentType, body };
  }

  private errorReply(condition: TerminalCondition): BoshReply {
    const legacy = this.settings.ver === null ? LEGACY_HTTP_STATUS[condition] : undefined;
    return this.reply(terminalBody(condition), legacy ?? 200);
  }

  /** A binding error ends the session; other held requests learn why with 'other-request'. */
  private fail(request: BoshRequest, err: BoshError): void {
    this.log.debug('BOSH session terminated', { sid: this.sid, condition: err.condition, reason: err.detail });
    const others = this.reply(terminalBody('other-request'));
    for (const h of this.queue.drain()) h.respond(others);
    for (const r of this.ahead.values()) if (r !== request) r.respond(others);
    request.respond(this.errorReply(err.condition));
    this.notifyClosed();
    this.finish();
  }

  // ---- lifetime -----------------------------------------------------------------------

  private startInactivity(seconds: number): void {
    this.stopInactivity();
    this.inactivityTimer = setTimeout(this.inactive, seconds * 1000);
    this.inactivityTimer.unref();
  }

  private stopInactivity(): void {
    if (this.inactivityTimer) clearTimeout(this.inactivityTimer);
    this.inactivityTimer = null;
  }

  /** No request for too long: the client is gone, and the stream ends as a disconnect would. */
  private readonly inactive = (): void => {
    if (this.state === 'open') this.log.debug('BOSH session inactive; ending it', { sid: this.sid, seconds: this.inactivitySeconds });
    this.notifyClosed();
    this.finish();
  };

  private notifyClosed(): void {
    if (this.closedNotified) return;
    this.closedNotified = true;
    this.pending = '';
    this.handler?.closed();
  }

  private finish(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.stopInactivity();
    this.queue.drain();
    this.ahead.clear();
    this.finalBody = null;
    this.terminateRequest = null;
    this.onEnded(this);
  }
}
