// The node's most recent log lines, kept in memory for the admin console's log page: an
// operator looking at a misbehaving node should not need a shell on it. Bounded by count and
// by size (a line is cut at MAX_LINE_CHARS), so a noisy node costs at most about 1 MiB.
export interface LogLine {
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  component: string;
  /** The message and its fields, as written to the log. */
  text: string;
}

const MAX_LINES = 2000;
const MAX_LINE_CHARS = 512;

export class LogRing {
  readonly #lines: (LogLine | undefined)[];
  #next = 0;
  #size = 0;

  constructor(readonly capacity = MAX_LINES) {
    this.#lines = new Array(capacity);
  }

  push(line: LogLine): void {
    if (line.text.length > MAX_LINE_CHARS) line = { ...line, text: `${line.text.slice(0, MAX_LINE_CHARS)}…` };
    this.#lines[this.#next] = line;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The newest `limit` lines at `minLevel` or above, oldest first. */
  recent(limit: number, accept: (line: LogLine) => boolean = () => true): LogLine[] {
    const out: LogLine[] = [];
    for (let i = 1; i <= this.#size && out.length < limit; i++) {
      const line = this.#lines[(this.#next - i + this.capacity) % this.capacity]!;
      if (accept(line)) out.push(line);
    }
    return out.reverse();
  }
}

/** The process's log lines (log.ts writes every line it prints here too). */
export const recentLog = new LogRing();
