// Reads a server's side of an XMPP stream during login, where a few kilobytes per connection
// are exchanged and clarity matters more than allocations: the text is kept as a string and
// searched for the next expected marker. Works the same against any server, whatever its
// quoting or attribute order, because the markers are regular expressions.

/** Anything in these means the login cannot go on. */
const FATAL = /<stream:error[\s\S]*?<\/stream:error>|<\/stream:stream>/;

interface Waiter {
  pattern: RegExp;
  resolve(match: RegExpExecArray): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class StreamReader {
  private text = '';
  private waiter: Waiter | null = null;
  private ended: Error | null = null;

  constructor(private readonly label: string) {}

  /** Feed bytes as they arrive. The login part of a stream is ASCII in practice. */
  push(chunk: Buffer): void {
    this.text += chunk.toString('latin1');
    this.check();
  }

  /** The connection is gone: the pending and every later expect() fail. */
  close(reason: string): void {
    this.ended ??= new Error(`${this.label}: ${reason}${this.text ? ` (last input: ${this.text.slice(-300)})` : ''}`);
    this.check();
  }

  /**
   * Resolves with the first match of `pattern` in the unread text and consumes the text up
   * to the end of the match.
   */
  expect(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    if (this.waiter) throw new Error('one expect() at a time');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`${this.label}: no ${pattern} within ${timeoutMs} ms (unread: ${this.text.slice(-300) || 'nothing'})`));
      }, timeoutMs);
      this.waiter = { pattern, resolve, reject, timer };
      this.check();
    });
  }

  /** Whatever arrived and was not consumed yet. */
  rest(): string {
    return this.text;
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const m = w.pattern.exec(this.text);
    if (m) {
      this.text = this.text.slice(m.index + m[0].length);
      this.settle().resolve(m);
      return;
    }
    const fatal = FATAL.exec(this.text);
    if (fatal) this.settle().reject(new Error(`${this.label}: server ended the stream: ${fatal[0].slice(0, 400)}`));
    else if (this.ended) this.settle().reject(this.ended);
  }

  private settle(): Waiter {
    const w = this.waiter!;
    this.waiter = null;
    clearTimeout(w.timer);
    return w;
  }
}
