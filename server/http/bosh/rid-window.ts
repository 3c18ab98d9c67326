// Request ids of one BOSH session (XEP-0124 section 14): which rid comes next, which are
// ahead within the window (held until the gap is filled), which are repeats (answered from
// the buffer of sent responses), and which are outside and end the session.

export type RidVerdict = 'next' | 'ahead' | 'repeat' | 'outside';

/** Responses kept for repeats, at most, whatever the client acknowledges. */
const MAX_BUFFERED = 32;

export class RidWindow {
  /** Highest rid processed in order (every lower one has been processed too). */
  private last: number;
  private readonly responses = new Map<number, string>();
  /** Highest rid whose response the client acknowledged; null when it does not use acks. */
  private acked: number | null = null;

  /** `first`: the rid of the session creation request; `size`: the 'requests' attribute. */
  constructor(first: number, private readonly size: number) {
    this.last = first;
  }

  get highest(): number {
    return this.last;
  }

  classify(rid: number): RidVerdict {
    if (rid === this.last + 1) return 'next';
    if (rid <= this.last) return 'repeat';
    return rid <= this.last + this.size ? 'ahead' : 'outside';
  }

  /** Marks the next rid as processed. */
  advance(): number {
    return ++this.last;
  }

  /** Keeps a sent response for a possible repeat of its request. */
  remember(rid: number, body: string): void {
    this.responses.set(rid, body);
    this.trim();
  }

  /** The response sent for a repeated rid, if still buffered. */
  response(rid: number): string | undefined {
    return this.responses.get(rid);
  }

  /** The client's 'ack': every response up to and including it arrived. */
  acknowledge(rid: number): void {
    if (this.acked === null || rid > this.acked) this.acked = rid;
    this.trim();
  }

  /**
   * Without acks the buffer holds the responses of the last `size` requests; with acks,
   * the unacknowledged ones. Either way it is bounded.
   */
  private trim(): void {
    const floor = this.acked ?? this.last - this.size;
    for (const rid of this.responses.keys()) {
      if (rid <= floor || this.responses.size > MAX_BUFFERED) this.responses.delete(rid);
    }
  }
}
