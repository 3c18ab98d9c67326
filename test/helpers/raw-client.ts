// A deliberately dumb XMPP client for protocol tests: it sends exactly the bytes a test
// writes and lets the test wait for the elements it expects, so error paths can be driven
// byte by byte. Real client libraries are tested separately (test/clients/).
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Attrs, Element } from '../../server/xml/element.ts';
import { StreamParser } from '../../server/xml/stream-parser.ts';

export type Match = (el: Element) => boolean;

/** The defined condition of a stanza error reply (`item-not-found`, ...), if it is one. */
export function errorCondition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.name !== 'text')?.name;
}

interface Waiter {
  match: Match;
  resolve(el: Element): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface LoginOptions {
  resource?: string;
  /** Do STARTTLS before authenticating (default false: test servers allow plaintext PLAIN). */
  tls?: boolean;
  /** Send initial presence after binding (default false). */
  presence?: boolean;
}

export class RawClient {
  /** Elements received and not yet claimed by expect(). */
  readonly inbox: Element[] = [];
  private readonly waiters: Waiter[] = [];
  private parser: StreamParser;
  private socket: net.Socket;
  streamAttrs: Attrs | null = null;
  private headerWaiters: ((a: Attrs) => void)[] = [];
  /** Everything received, as text, for assertions on raw output. */
  received = '';
  jid = '';
  streamEnded = false;
  readonly closedPromise: Promise<void>;
  private parseError: Error | null = null;
  private isClosed = false;

  private constructor(socket: net.Socket, readonly port: number, readonly domain: string) {
    this.socket = socket;
    this.parser = this.newParser();
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    this.attach(socket);
  }

  /**
   * `preamble`: bytes written first, before TLS too (a balancer's PROXY protocol header).
   * `localAddress`: the address to connect from over plain TCP (any 127.x.y.z is this machine),
   * for tests of per-address rules.
   */
  static async connect(port: number, opts: { domain?: string; directTls?: boolean; preamble?: Buffer; localAddress?: string } = {}): Promise<RawClient> {
    const servername = opts.domain ?? 'localhost';
    const localAddress = opts.localAddress;
    let socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket = opts.directTls && !opts.preamble
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername }, () => resolve(s))
        : net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    if (opts.preamble) {
      socket.write(opts.preamble);
      if (opts.directTls) {
        const plain = socket;
        socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = tls.connect({ socket: plain, rejectUnauthorized: false, servername }, () => resolve(s));
          s.once('error', reject);
        });
      }
    }
    return new RawClient(socket, port, servername);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('utf8');
      this.parser.write(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.isClosed = true;
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`connection closed while waiting; received so far:\n${this.received.slice(-2000)}`));
      }
    });
  }

  private newParser(): StreamParser {
    return new StreamParser({
      streamStart: (attrs) => {
        this.streamAttrs = attrs;
        for (const w of this.headerWaiters.splice(0)) w(attrs);
      },
      element: (el) => this.deliver(el),
      streamEnd: () => { this.streamEnded = true; },
      error: (err) => { this.parseError = err; },
    }, { maxStanzaBytes: 10_000_000 });
  }

  private deliver(el: Element): void {
    const i = this.waiters.findIndex((w) => w.match(el));
    if (i === -1) {
      this.inbox.push(el);
      return;
    }
    const [w] = this.waiters.splice(i, 1);
    clearTimeout(w!.timer);
    w!.resolve(el);
  }

  send(data: string): void {
    this.socket.write(data);
  }

  /** Writes and waits until the socket takes more (for floods that must not pile up here). */
  async sendPaced(data: string): Promise<void> {
    if (!this.socket.write(data)) await new Promise((resolve) => this.socket.once('drain', resolve));
  }

  /** Stops reading the socket (a client that never reads), or starts again. */
  reading(on: boolean): void {
    if (on) this.socket.resume();
    else this.socket.pause();
  }

  /** Opens (or re-opens) the stream and returns the server's stream features. */
  async open(attrs: string = `to='${this.domain}'`): Promise<Element> {
    this.parser = this.newParser();
    this.streamAttrs = null;
    const header = new Promise<Attrs>((resolve, reject) => {
      this.headerWaiters.push(resolve);
      void this.closedPromise.then(() => reject(new Error(`connection closed before the stream header; received:\n${this.received}`)));
    });
    this.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' ${attrs}>`);
    await header;
    return this.expect((el) => el.name === 'stream:features');
  }

  /** Waits for the next element that matches (or any element). */
  expect(match: Match = () => true, timeoutMs = 5_000): Promise<Element> {
    const i = this.inbox.findIndex(match);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    if (this.isClosed) return Promise.reject(new Error(`connection already closed; received:\n${this.received.slice(-2000)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k !== -1) this.waiters.splice(k, 1);
        reject(new Error(`timed out after ${timeoutMs} ms; unclaimed: ${this.inbox.map(String).join('\n')}\nreceived tail:\n${this.received.slice(-1500)}`));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer });
    });
  }

  /** Resolves true if nothing matching arrives within the time (for "must not be delivered" checks). */
  async nothing(match: Match = () => true, ms = 500): Promise<boolean> {
    try {
      await this.expect(match, ms);
      return false;
    } catch {
      return true;
    }
  }

  /** Expects the stream to end with an error; returns its condition (e.g. 'not-well-formed'). */
  async expectStreamError(timeoutMs = 5_000): Promise<string> {
    const err = await this.expect((el) => el.name === 'stream:error', timeoutMs);
    const condition = err.getChildElements().find((c) => c.name !== 'text');
    return condition?.name ?? '(none)';
  }

  /** Sends an IQ (an id is added if missing) and waits for its result or error. */
  async iq(xmlText: string, timeoutMs = 5_000): Promise<Element> {
    let text = xmlText;
    let id = /^<iq\b[^>]*\bid=['"]([^'"]+)['"]/.exec(text)?.[1];
    if (!id) {
      id = randomBytes(4).toString('hex');
      text = text.replace(/^<iq\b/, `<iq id='${id}'`);
    }
    const answer = this.expect((el) => el.name === 'iq' && el.attrs.id === id && (el.attrs.type === 'result' || el.attrs.type === 'error'), timeoutMs);
    this.send(text);
    return answer;
  }

  /** STARTTLS on the current stream; the stream must be re-opened afterwards. */
  async startTls(): Promise<void> {
    const proceed = this.expect((el) => el.name === 'proceed' || el.name === 'failure');
    this.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const answer = await proceed;
    if (answer.name !== 'proceed') throw new Error('STARTTLS refused');
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secured = tls.connect({ socket: plain, rejectUnauthorized: false, servername: this.domain });
    await new Promise<void>((resolve, reject) => {
      secured.once('secureConnect', () => resolve());
      secured.once('error', reject);
    });
    this.socket = secured;
    this.parser = this.newParser();
    this.attach(secured);
  }

  /** SASL PLAIN; resolves with the <success/> or <failure/> element. */
  async authPlain(user: string, password: string): Promise<Element> {
    const payload = Buffer.from(`\0${user}\0${password}`).toString('base64');
    const answer = this.expect((el) => el.name === 'success' || el.name === 'failure', 15_000);
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${payload}</auth>`);
    return answer;
  }

  /** Binds a resource and records the full JID. */
  async bind(resource?: string): Promise<string> {
    const res = resource ? `<resource>${resource}</resource>` : '';
    const result = await this.iq(`<iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>${res}</bind></iq>`);
    if (result.attrs.type !== 'result') throw new Error(`bind failed: ${result}`);
    this.jid = result.getChild('bind')!.getChildText('jid')!;
    return this.jid;
  }

  /** Full login: [STARTTLS,] PLAIN, restart, bind [, initial presence]. */
  static async login(port: number, user: string, password: string, opts: LoginOptions = {}): Promise<RawClient> {
    const c = await RawClient.connect(port);
    await c.open();
    if (opts.tls) {
      await c.startTls();
      await c.open();
    }
    const result = await c.authPlain(user, password);
    if (result.name !== 'success') throw new Error(`login of ${user} failed: ${result}`);
    await c.open();
    await c.bind(opts.resource);
    if (opts.presence) c.send('<presence/>');
    return c;
  }

  get parserError(): Error | null {
    return this.parseError;
  }

  /** Ends our stream politely and waits for the connection to close. */
  async close(): Promise<void> {
    if (!this.socket.destroyed) {
      this.socket.end('</stream:stream>');
      const timer = setTimeout(() => this.socket.destroy(), 2_000);
      await this.closedPromise;
      clearTimeout(timer);
    }
  }

  /** Drops the TCP connection without closing the stream (a crashed client). */
  destroy(): void {
    this.socket.destroy();
  }

  get closed(): Promise<void> {
    return this.closedPromise;
  }
}
