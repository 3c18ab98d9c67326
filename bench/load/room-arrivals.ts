// Reads the group chat messages an occupant receives during the steady load and reports each
// as (sender, sequence number), taken from its body ("m<sender>.<seq> ..."). Unlike the
// one-to-one bench, arrivals have to be told apart: with several senders in one room each
// occupant sees their messages interleaved, and the bench checks that every occupant got
// every message of every sender, in order. Bytes are searched, not parsed as XML; a stanza
// cut across two chunks is kept until its end arrives.

const END = Buffer.from('</message>', 'latin1');
const BODY = Buffer.from('<body>m', 'latin1');
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** The body the steady load sends: what RoomArrivals reads back. */
export function roomBody(sender: number, seq: number): string {
  return `m${sender}.${seq} hello everyone in the room, how is it going?`;
}

export class RoomArrivals {
  private carry: Buffer | null = null;
  /** Messages that ended without a body of the steady load (history, subject, anything else). */
  others = 0;

  constructor(private readonly onArrival: (sender: number, seq: number) => void) {}

  push(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const end = data.indexOf(END, pos);
      if (end === -1) break;
      const body = data.indexOf(BODY, pos);
      if (body !== -1 && body < end) this.read(data, body + BODY.length);
      else this.others++;
      pos = end + END.length;
    }
    // A copy, so that the rest of a large chunk is not kept alive by a short tail.
    this.carry = pos < data.length ? Buffer.from(data.subarray(pos)) : null;
  }

  private read(data: Buffer, at: number): void {
    let sender = 0;
    let i = at;
    for (; i < data.length && data[i]! >= ZERO && data[i]! <= NINE; i++) sender = sender * 10 + data[i]! - ZERO;
    if (i === at || data[i] !== DOT) {
      this.others++;
      return;
    }
    let seq = 0;
    const start = ++i;
    for (; i < data.length && data[i]! >= ZERO && data[i]! <= NINE; i++) seq = seq * 10 + data[i]! - ZERO;
    if (i === start) this.others++;
    else this.onArrival(sender, seq);
  }
}
