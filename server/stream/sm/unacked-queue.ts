// The stanzas sent to a client and not yet acknowledged (XEP-0198 section 4), oldest first,
// with the count of everything sent. An ack of `h` drops what the client has handled; the
// rest is what a resumed stream sends again and what the server must deal with when the
// session ends.
import { Fifo } from '../../util/fifo.ts';
import type { Element } from '../../xml/element.ts';
import { countsBetween, nextCount } from './handled-count.ts';

/** A stanza as it was sent: an element, or text another node of the cluster serialized. */
export type SentStanza = Element | string;

export type AckResult = 'ok' | 'too-high';

export class UnackedQueue {
  private readonly items = new Fifo<SentStanza>();
  /** Stanzas sent since enable, modulo 2^32. */
  private sentCount = 0;

  /** Starts at a given count: a session taken over from another node keeps its numbering. */
  constructor(start = 0) {
    this.sentCount = start;
  }

  get sent(): number {
    return this.sentCount;
  }

  /** The count the client has acknowledged so far. */
  get acked(): number {
    return (this.sentCount - this.items.length + 2 ** 32) % 2 ** 32;
  }

  get length(): number {
    return this.items.length;
  }

  push(stanza: SentStanza): void {
    this.items.push(stanza);
    this.sentCount = nextCount(this.sentCount);
  }

  /**
   * Drops what an ack of `h` covers. An `h` older than an earlier ack is taken as nothing new
   * (acks may cross a resend); one beyond what was sent is refused, the queue left as it was.
   */
  ack(h: number): AckResult {
    const newlyHandled = countsBetween(this.acked, h);
    if (newlyHandled > this.items.length) {
      // Either beyond what was sent or behind the last ack: the nearer reading wins, and an
      // old ack repeated says nothing new.
      return countsBetween(h, this.acked) < countsBetween(this.sentCount, h) ? 'ok' : 'too-high';
    }
    for (let i = 0; i < newlyHandled; i++) this.items.shift();
    return 'ok';
  }

  /** What is still unacknowledged, oldest first (for a resend). */
  pending(): SentStanza[] {
    return [...this.items];
  }

  /** Empties the queue and returns what was in it, oldest first. */
  drain(): SentStanza[] {
    const all = this.pending();
    this.items.clear();
    return all;
  }
}
