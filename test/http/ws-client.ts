// A literal RFC 7395 client for tests: each frame a test sends is exactly the text it
// writes; each frame received is parsed as one element and waits to be claimed.
import WebSocket from 'ws';
import type { Element } from '../../server/xml/element.ts';
import { parseXml } from '../../server/xml/stream-parser.ts';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

interface Waiter {
  match: (el: Element) => boolean;
  resolve(el: Element): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class WsClient {
  readonly inbox: Element[] = [];
  /** Every frame received, as text. */
  readonly frames: string[] = [];
  private readonly waiters: Waiter[] = [];
  readonly closed: Promise<{ code: number }>;
  jid = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      const el = parseXml(text);
      const i = this.waiters.findIndex((w) => w.match(el));
      if (i === -1) return void this.inbox.push(el);
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(el);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => {
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`connection closed while waiting; frames:\n${this.frames.join('\n')}`));
      }
      resolve({ code });
    }));
  }

  static connect(port: number, opts: {
    protocols?: string[];
    origin?: string;
    autoPong?: boolean;
    /** wss:// instead of ws:// (the test server's certificate is self-signed). */
    secure?: boolean;
    headers?: Record<string, string>;
    /** /ws by default. */
    path?: string;
  } = {}): Promise<WsClient> {
    const ws = new WebSocket(`${opts.secure ? 'wss' : 'ws'}://127.0.0.1:${port}${opts.path ?? '/ws'}`, opts.protocols ?? ['xmpp'], {
      origin: opts.origin,
      autoPong: opts.autoPong ?? true,
      headers: opts.headers,
      rejectUnauthorized: opts.secure ? false : undefined,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  expect(match: (el: Element) => boolean = () => true, timeoutMs = 5_000): Promise<Element> {
    const i = this.inbox.findIndex(match);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k !== -1) this.waiters.splice(k, 1);
        reject(new Error(`timed out; frames so far:\n${this.frames.join('\n')}`));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer });
    });
  }

  /** Sends <open/>; resolves with the server's <open/> and the features that follow. */
  async open(): Promise<{ open: Element; features: Element }> {
    const open = this.expect((el) => el.name === 'open');
    const features = this.expect((el) => el.name === 'stream:features');
    this.send(`<open xmlns='${NS_FRAMING}' to='localhost' version='1.0'/>`);
    return { open: await open, features: await features };
  }

  async login(user: string, password: string, resource = 'ws'): Promise<string> {
    await this.open();
    const outcome = this.expect((el) => el.name === 'success' || el.name === 'failure');
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`);
    if ((await outcome).name !== 'success') throw new Error(`login of ${user} failed`);
    await this.open();
    const bound = this.expect((el) => el.name === 'iq' && el.attrs.id === 'bind');
    this.send(`<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    this.jid = (await bound).getChild('bind')?.getChildText('jid') ?? '';
    return this.jid;
  }
}

/** The raw HTTP answer to an upgrade the server refuses. */
export function refusedUpgrade(port: number, opts: { path?: string; protocols?: string[]; origin?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/ws'}`, opts.protocols ?? [], { origin: opts.origin });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => {});
  });
}
