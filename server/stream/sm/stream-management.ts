// One session's stream management (XEP-0198): the counts both ways, the unacknowledged
// stanzas, and when the server asks the client for an ack. It is the session's sent-stanza
// log, so it sees exactly what is written to the client (after any CSI hold), in order.
import type { ClientSession, SentStanzaLog } from '../../session/client-session.ts';
import { xml, type Element } from '../../xml/element.ts';
import { nextCount } from './handled-count.ts';
import type { SmProperties } from './sm-properties.ts';
import { UnackedQueue, type AckResult, type SentStanza } from './unacked-queue.ts';

export const NS_SM = 'urn:xmpp:sm:3';
/** The ack request never changes: one element serves every session. */
const ACK_REQUEST = xml('r', { xmlns: NS_SM });

export interface SmSettings {
  /** The resumption id, when the client asked for resumption. */
  id: string | null;
  /** Seconds the session stays resumable after its connection drops. */
  resumeSeconds: number;
}

/** Told of every change a replica of the session must follow (session-replicas.ts). */
export interface SmObserver {
  sent(stanza: SentStanza): void;
  /** A count changed: a stanza received, or an ack. */
  changed(): void;
}

export class StreamManagement implements SentStanzaLog {
  observer: SmObserver | null = null;
  /** Stanzas received from the client, modulo 2^32 (the h we ack). */
  inbound = 0;
  readonly queue: UnackedQueue;
  /** The session went over its bound of unacknowledged stanzas (it is being ended). */
  overflowed = false;
  private requestOutstanding = false;
  private sinceRequest = 0;
  private requestTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly session: ClientSession,
    readonly settings: SmSettings,
    private readonly properties: SmProperties,
    /** Ends the session when the bound is crossed (after the current call returns). */
    private readonly onOverflow: () => void,
    sentCount = 0,
  ) {
    this.queue = new UnackedQueue(sentCount);
  }

  get resumable(): boolean {
    return this.settings.id !== null;
  }

  /** A stanza from the client was handled. */
  received(): void {
    this.inbound = nextCount(this.inbound);
    this.observer?.changed();
  }

  record(stanza: SentStanza): boolean {
    this.queue.push(stanza);
    this.observer?.sent(stanza);
    if (this.queue.length > this.properties.maxUnacked.value) {
      if (!this.overflowed) {
        this.overflowed = true;
        queueMicrotask(this.onOverflow);
      }
      return false;
    }
    if (!this.session.detached) this.maybeRequestAck();
    return true;
  }

  /** The client's <a h=/>. */
  acked(h: number): AckResult {
    const result = this.queue.ack(h);
    if (result === 'ok') {
      this.requestOutstanding = false;
      this.sinceRequest = 0;
      this.observer?.changed();
      // The delay timer is left to run out: re-arming it at every ack would cost a timer per
      // few stanzas on a busy session; when it fires it asks only if something is unacked.
    }
    return result;
  }

  /** Answers the client's <r/>. */
  answerRequest(): void {
    this.session.sendNonza(this.ackElement());
  }

  ackElement(): Element {
    return xml('a', { xmlns: NS_SM, h: String(this.inbound) });
  }

  /** The connection went away or the session moves: no ack can be asked for now. */
  pause(): void {
    this.clearTimer();
    this.requestOutstanding = false;
    this.sinceRequest = 0;
  }

  /** After a resumption: asks for an ack if stanzas were sent again. */
  resumed(): void {
    if (this.queue.length) this.request();
  }

  /**
   * Asks for an ack once `ack-request-every` stanzas went out since the last request, or when
   * the first unacknowledged one has waited `ack-request-delay`: a client that receives little
   * still acks what it got, so the queue does not hold it until the next burst.
   */
  private maybeRequestAck(): void {
    this.sinceRequest++;
    if (!this.requestOutstanding && this.sinceRequest >= this.properties.ackRequestEvery.value) {
      this.request();
      return;
    }
    if (this.requestTimer === null) {
      this.requestTimer = setTimeout(() => {
        this.requestTimer = null;
        if (this.queue.length && !this.session.detached && !this.session.closed) this.request();
      }, this.properties.ackRequestDelay.value * 1000);
      this.requestTimer.unref();
    }
  }

  private request(): void {
    this.requestOutstanding = true;
    this.sinceRequest = 0;
    this.session.sendNonza(ACK_REQUEST);
  }

  private clearTimer(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = null;
  }
}
