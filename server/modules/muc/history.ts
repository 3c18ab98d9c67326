// The discussion history a room sends to whoever joins (XEP-0045 7.2.15): the newest
// groupchat messages, each with the instant it was sent, cut to what the joining client
// asked for with <history maxchars maxstanzas seconds since/>.
import { serialize, type Element } from '../../xml/element.ts';

export interface HistoryEntry {
  /** The message as occupants received it, without 'to'. */
  message: Element;
  at: Date;
  /** Its serialized length, which maxchars counts. */
  chars: number;
}

export interface HistoryRequest {
  maxchars?: number;
  maxstanzas?: number;
  seconds?: number;
  since?: Date;
}

export class RoomHistory {
  private entries: HistoryEntry[] = [];

  constructor(private limit: number) {}

  setLimit(limit: number): void {
    this.limit = limit;
    this.trim();
  }

  add(message: Element, at: Date): void {
    this.entries.push({ message, at, chars: serialize(message).length });
    this.trim();
  }

  /** Puts older messages (oldest first) before those kept, as far as the limit allows. */
  prepend(older: readonly { message: Element; at: Date }[]): void {
    this.entries = [...older.map((e) => ({ message: e.message, at: e.at, chars: serialize(e.message).length })), ...this.entries];
    this.trim();
  }

  /** Every entry kept, oldest first (what a room hands over to its next owner). */
  all(): readonly HistoryEntry[] {
    return this.entries;
  }

  private trim(): void {
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  /** The entries a join asked for, oldest first. */
  select(req: HistoryRequest, now: Date): HistoryEntry[] {
    let out = this.entries;
    if (req.seconds !== undefined) out = out.filter((e) => now.getTime() - e.at.getTime() <= req.seconds! * 1000);
    if (req.since) out = out.filter((e) => e.at.getTime() > req.since!.getTime());
    if (req.maxstanzas !== undefined) out = req.maxstanzas === 0 ? [] : out.slice(-req.maxstanzas);
    if (req.maxchars !== undefined) {
      // The newest messages that fit, counting whole stanzas as the XEP says.
      let total = 0;
      let first = out.length;
      while (first > 0 && total + out[first - 1]!.chars <= req.maxchars) total += out[--first]!.chars;
      out = out.slice(first);
    }
    return out;
  }
}

/** Reads <history/> of a join; absent or malformed attributes ask for nothing in particular. */
export function historyRequest(el: Element | undefined): HistoryRequest {
  if (!el) return {};
  const int = (name: string): number | undefined => {
    const v = el.attrs[name];
    if (v === undefined || !/^\d+$/.test(v)) return undefined;
    return Number(v);
  };
  const since = el.attrs.since ? new Date(el.attrs.since) : undefined;
  return { maxchars: int('maxchars'), maxstanzas: int('maxstanzas'), seconds: int('seconds'), since: since && !Number.isNaN(since.getTime()) ? since : undefined };
}
