// The requests a BOSH session holds open (long polling), oldest rid first: answers always
// go to the oldest, which keeps responses in rid order as XEP-0124 section 8 requires.

export interface BoshReply {
  status: number;
  contentType: string;
  body: string;
}

/** Sends an HTTP response; null drops the connection without one. */
export type Respond = (reply: BoshReply | null) => void;

export interface HeldRequest {
  rid: number;
  respond: Respond;
  timer: NodeJS.Timeout | null;
}

export class RequestQueue {
  private readonly held: HeldRequest[] = [];

  get size(): number {
    return this.held.length;
  }

  /** Holds a request; `onExpired` runs if it is still held after `waitMs` (the 'wait' attribute). */
  add(rid: number, respond: Respond, waitMs: number, onExpired: () => void): void {
    const timer = setTimeout(onExpired, waitMs);
    timer.unref();
    this.held.push({ rid, respond, timer });
  }

  /** Removes and returns the oldest held request. */
  shift(): HeldRequest | undefined {
    const r = this.held.shift();
    if (r?.timer) clearTimeout(r.timer);
    return r;
  }

  /** Removes and returns all, oldest first. */
  drain(): HeldRequest[] {
    const all = this.held.splice(0);
    for (const r of all) if (r.timer) clearTimeout(r.timer);
    return all;
  }

  /**
   * A repeated rid that is still held (its first connection broke): the new connection
   * takes over, and the old one is returned so the caller can release it.
   */
  replace(rid: number, respond: Respond): Respond | null {
    const r = this.held.find((h) => h.rid === rid);
    if (!r) return null;
    const old = r.respond;
    r.respond = respond;
    return old;
  }
}
