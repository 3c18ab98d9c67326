// A literal BOSH client for tests: it posts exactly the <body/> a test writes, tracks sid and
// rid, and parses what comes back, so every rule of XEP-0124 can be driven by hand.
import { randomInt } from 'node:crypto';
import https from 'node:https';
import type { Element } from '../../server/xml/element.ts';
import { parseXml } from '../../server/xml/stream-parser.ts';

export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const XBOSH = "xmlns:xmpp='urn:xmpp:xbosh'";

export interface BoshResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Element;
  /** Milliseconds between sending and the complete response. */
  ms: number;
}

/** Where a client posts: a plain HTTP port, or a port with TLS and/or headers sent with every request. */
export type BoshTarget = number | { port: number; secure?: boolean; headers?: Record<string, string> };

export async function postBody(target: BoshTarget, text: string, headers: Record<string, string> = {}): Promise<BoshResponse> {
  const t = typeof target === 'number' ? { port: target } : target;
  const started = Date.now();
  const all = { 'content-type': 'text/xml; charset=utf-8', ...t.headers, ...headers };
  const res = t.secure
    ? await postTls(t.port, text, all)
    : await fetch(`http://127.0.0.1:${t.port}/http-bind`, { method: 'POST', headers: all, body: text });
  const body = await res.text();
  return { status: res.status, headers: res.headers, text: body, body: parseXml(body), ms: Date.now() - started };
}

/** fetch() cannot be told to accept the test server's self-signed certificate; node:https can. */
function postTls(port: number, text: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/http-bind', method: 'POST', headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a).map(([k, v]) => ` ${k}='${v}'`).join('');
}

export class BoshClient {
  sid = '';
  jid = '';
  /** The next rid to use. */
  rid: number;
  creation: BoshResponse | null = null;

  constructor(readonly port: BoshTarget, firstRid = randomInt(1_000_000, 1_000_000_000)) {
    this.rid = firstRid;
  }

  /** Opens a session; `extra` overrides or adds creation attributes (wait, hold, ...). */
  static async create(port: BoshTarget, extra: Record<string, string | number> = {}): Promise<BoshClient> {
    const c = new BoshClient(port);
    const res = await c.post('', { to: 'localhost', wait: 10, hold: 1, ver: '1.11', 'xml:lang': 'en', 'xmpp:version': '1.0', ...extra }, true);
    if (res.body.attrs.type === 'terminate') throw new Error(`session refused: ${res.text}`);
    c.sid = res.body.attrs.sid!;
    c.creation = res;
    return c;
  }

  /** The <body/> text for a request of this session. */
  bodyText(payload = '', extra: Record<string, string | number> = {}, rid = this.rid): string {
    return `<body xmlns='${NS_HTTPBIND}' ${XBOSH}${attrs({ rid, sid: this.sid, ...extra })}>${payload}</body>`;
  }

  /** Sends the next request (or the given rid, for repeats and gaps). */
  send(payload = '', extra: Record<string, string | number> = {}, rid?: number): Promise<BoshResponse> {
    const use = rid ?? this.rid++;
    return postBody(this.port, this.bodyText(payload, extra, use));
  }

  private post(payload: string, extra: Record<string, string | number>, creation: boolean): Promise<BoshResponse> {
    const rid = this.rid++;
    const text = creation
      ? `<body xmlns='${NS_HTTPBIND}' ${XBOSH}${attrs({ rid, ...extra })}>${payload}</body>`
      : this.bodyText(payload, extra, rid);
    return postBody(this.port, text);
  }

  /** Sends requests until one carries an element matching `match` (long polls on the way). */
  async until(match: (el: Element) => boolean, payload = '', tries = 5): Promise<Element> {
    for (let i = 0; i < tries; i++) {
      const res = await this.send(i === 0 ? payload : '');
      if (res.body.attrs.type === 'terminate') throw new Error(`session ended: ${res.text}`);
      const found = res.body.getChildElements().find(match);
      if (found) return found;
    }
    throw new Error('expected element never arrived');
  }

  /** SASL PLAIN, restart, bind: a bound session, its JID recorded. */
  async login(user: string, password: string, resource = 'bosh'): Promise<string> {
    const auth = Buffer.from(`\0${user}\0${password}`).toString('base64');
    const outcome = await this.until((el) => el.name === 'success' || el.name === 'failure',
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
    if (outcome.name !== 'success') throw new Error(`login failed: ${outcome}`);
    const restart = await this.send('', { 'xmpp:restart': 'true', to: 'localhost' });
    if (!restart.body.getChild('features')) throw new Error(`no features after restart: ${restart.text}`);
    const bound = await this.until((el) => el.name === 'iq',
      `<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    this.jid = bound.getChild('bind')?.getChildText('jid') ?? '';
    if (!this.jid) throw new Error(`bind failed: ${bound}`);
    return this.jid;
  }
}
