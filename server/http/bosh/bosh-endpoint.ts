// The BOSH connection manager of this node: turns one HTTP request body into either a new
// session (XEP-0124 section 7) or a request of an existing one, found by 'sid'. Sessions
// live in this process only, which is why load balancers must keep BOSH clients sticky.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.ts';
import type { AddressCounter } from '../../transport/client-connections.ts';
import type { Transport } from '../../transport/transport.ts';
import type { Element } from '../../xml/element.ts';
import type { HttpProperties } from '../http-properties.ts';
import {
  BOSH_VERSION, BoshError, DEFAULT_CONTENT_TYPE, LEGACY_HTTP_STATUS, NS_XBOSH, contentAttr, decodeBody, intAttr, lowerVersion,
  parseBody, requestId, terminalBody, type TerminalCondition,
} from './bosh-body.ts';
import { BoshSession, type BoshSessionSettings } from './bosh-session.ts';
import type { BoshReply, Respond } from './request-queue.ts';

export interface BoshEndpointOptions {
  domain: string;
  properties: HttpProperties;
  /** Runs the client stream over a new session (the same code as TCP). */
  accept(transport: Transport): void;
  /** Counts each session for its client's address, and the limits sessions read. */
  connections: AddressCounter;
  /** Largest stanza any client may send, in bytes (bounds a request body). */
  maxStanzaBytes(): number;
  log: Logger;
}

export interface HttpRequestInfo {
  remoteAddress: string;
  secure: boolean;
}

/** A request body may carry several stanzas: this many of the largest allowed. */
export const STANZAS_PER_BODY = 4;

export class BoshEndpoint {
  private readonly sessions = new Map<string, BoshSession>();
  private closed = false;

  constructor(private readonly options: BoshEndpointOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Largest HTTP body accepted, in bytes. */
  maxBodyBytes(): number {
    return this.options.maxStanzaBytes() * STANZAS_PER_BODY + 1024;
  }

  /** One HTTP request body, as the bytes that came. */
  handle(bytes: Uint8Array, info: HttpRequestInfo, respond: Respond): void {
    let body: Element;
    let rid: number;
    try {
      body = parseBody(decodeBody(bytes), this.maxBodyBytes());
      rid = requestId(body);
    } catch (err) {
      if (!(err instanceof BoshError)) throw err;
      this.options.log.debug('bad BOSH request', { address: info.remoteAddress, reason: err.detail });
      return respond(errorReply(err.condition));
    }
    const sid = body.attrs.sid;
    if (sid === undefined) return this.create(body, rid, bytes.length, info, respond);
    const session = this.sessions.get(sid);
    if (!session) {
      this.options.log.debug('BOSH request for an unknown session', { address: info.remoteAddress });
      return respond(errorReply('item-not-found'));
    }
    session.receive({ rid, body, bytes: bytes.length, secure: info.secure, respond });
  }

  /** Ends every session with 'system-shutdown' (the listener is closing). */
  shutdown(): void {
    this.closed = true;
    for (const s of [...this.sessions.values()]) s.shutdown();
  }

  private create(body: Element, rid: number, bytes: number, info: HttpRequestInfo, respond: Respond): void {
    const legacy = body.attrs.ver === undefined;
    let settings: BoshSessionSettings;
    try {
      if (this.closed) throw new BoshError('system-shutdown', 'the server is shutting down');
      settings = this.negotiate(body, rid, info);
    } catch (err) {
      if (!(err instanceof BoshError)) throw err;
      this.options.log.debug('BOSH session refused', { address: info.remoteAddress, condition: err.condition, reason: err.detail });
      return respond(errorReply(err.condition, legacy));
    }
    // A session has no socket of its own but outlives the requests: it counts for its address.
    const slot = this.options.connections.open(settings.remoteAddress, 'bosh');
    const ended = (s: BoshSession): void => {
      this.sessions.delete(s.sid);
      slot.release();
    };
    const session = new BoshSession(settings, this.options.log, ended, this.options.connections, slot.admitted);
    this.sessions.set(settings.sid, session);
    this.options.accept(session);
    session.start({ rid, body, bytes, secure: info.secure, respond });
  }

  /**
   * XEP-0124 section 7.2: the client's wishes, bounded by this server's properties. A 'wait'
   * or 'hold' above them, however large, gets the most this server allows (intAttr).
   */
  private negotiate(body: Element, rid: number, info: HttpRequestInfo): BoshSessionSettings {
    const p = this.options.properties;
    const to = body.attrs.to;
    if (to === undefined || to === '') throw new BoshError('improper-addressing', "the session request needs a 'to' attribute");
    if (to.toLowerCase() !== this.options.domain) throw new BoshError('host-unknown', `this server serves ${this.options.domain}`);
    const maxWait = p.boshMaxWait.value;
    const wait = Math.min(intAttr(body, 'wait', maxWait), maxWait);
    const hold = Math.min(intAttr(body, 'hold', 1), p.boshMaxHold.value);
    const polling = p.boshPolling.value;
    // A polling session (hold or wait 0) has gaps between requests by design.
    const pollingSession = hold === 0 || wait === 0;
    const inactivity = p.boshInactivity.value + (pollingSession ? polling : 0);
    return {
      sid: randomBytes(16).toString('hex'),
      rid,
      wait,
      hold,
      requests: hold + 1,
      inactivity,
      polling,
      maxPause: p.boshMaxPause.value,
      ver: body.attrs.ver === undefined ? null : lowerVersion(body.attrs.ver, BOSH_VERSION),
      clientAcks: body.attrs.ack === '1',
      contentType: contentAttr(body, DEFAULT_CONTENT_TYPE),
      to: this.options.domain,
      lang: body.attrs['xml:lang'],
      streamVersion: xboshVersion(body),
      remoteAddress: info.remoteAddress,
      secure: info.secure,
    };
  }
}

/** The xmpp:version attribute (XEP-0206 section 3), under whatever prefix the client bound. */
function xboshVersion(body: Element): string | undefined {
  for (const key in body.attrs) {
    const colon = key.indexOf(':');
    if (colon !== -1 && key.slice(colon + 1) === 'version' && body.attrs['xmlns:' + key.slice(0, colon)] === NS_XBOSH) {
      return body.attrs[key];
    }
  }
  return undefined;
}

/** Unknown sessions and bad requests are answered as a modern client expects, unless the
 *  creation request itself was legacy (no 'ver'). */
function errorReply(condition: TerminalCondition, legacy = false): BoshReply {
  return {
    status: legacy ? LEGACY_HTTP_STATUS[condition] ?? 200 : 200,
    contentType: DEFAULT_CONTENT_TYPE,
    body: terminalBody(condition),
  };
}
