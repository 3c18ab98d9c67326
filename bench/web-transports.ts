// One-to-one messages over the web transports: the same load as the TCP figures of
// docs/performance.md (50 pairs x 10 in flight for the rate, 5 pairs x 2 for latency), with
// every client on WebSocket, or on BOSH with hold=1. The server runs pinned to one CPU
// (--server-cpu), this generator should be pinned to the other:
//
//   taskset -c 1 node --import tsx bench/web-transports.ts [--seconds 10] [--only websocket,bosh]
//
// Latency is one clock: both clients of a pair live in this process. In each pair the first
// client keeps `window` messages in flight to the second's full JID; each arrival releases
// the next. A generator on one core saturates before the server does at 50 x 10: the server
// CPU per message is then the figure that compares with TCP.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { deriveUserKeys } from '../server/auth/scram-keys.ts';
import { Logger, setLogLevel } from '../server/log.ts';
import { openStorage } from '../server/storage/database.ts';
import { cpuSeconds } from './lib/proc-stats.ts';
import { LatencyHistogram } from './load/latency-histogram.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    only: { type: 'string', default: 'websocket,bosh' },
    'server-cpu': { type: 'string', default: '0' },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PASSWORD = 'bench';
const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const HTTPBIND = 'http://jabber.org/protocol/httpbind';
/** The 118-byte chat stanza of the TCP benchmark, with the namespace web transports need. */
const chat = (to: string): string =>
  `<message xmlns='jabber:client' to='${to}' type='chat' id='m1'><body>hello there, how are you doing today?</body></message>`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  httpPort: number;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(users: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-web-bench-'));
  const path = join(dir, 'xmppd.sqlite');
  setLogLevel('warn');
  const storage = await openStorage({ type: 'sqlite', path }, new Logger('bench'), { migrate: true });
  const keys = await deriveUserKeys(PASSWORD, 4096);
  for (let i = 0; i < users; i++) await storage.users.create(`w${i}`, keys);
  await storage.properties.set('xmpp.c2s.max-connections-per-ip', '0');
  await storage.properties.set('xmpp.c2s.shaper.rate', '0');
  await storage.close();
  const [c2s, tls, httpPort, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const proc: ChildProcess = spawn('taskset', ['-c', args['server-cpu']!, process.execPath, join(ROOT, 'bin', 'xmppd.js'), 'start'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      XMPPD_DOMAIN: 'localhost', XMPPD_DATA_DIR: join(dir, 'data'), XMPPD_DATABASE_URL: `sqlite:${path}`,
      XMPPD_C2S_HOST: '127.0.0.1', XMPPD_C2S_PORT: String(c2s), XMPPD_C2S_TLS_HOST: '127.0.0.1', XMPPD_C2S_TLS_PORT: String(tls),
      XMPPD_HTTP_HOST: '127.0.0.1', XMPPD_HTTP_PORT: String(httpPort), XMPPD_ADMIN_HOST: '127.0.0.1', XMPPD_ADMIN_PORT: String(admin),
      XMPPD_ALLOW_PLAINTEXT_AUTH: 'true', XMPPD_REQUIRE_TLS: 'false', XMPPD_PLUGINS_DIR: join(dir, 'plugins'), XMPPD_BUNDLED_PLUGINS: 'none', XMPPD_LOG_LEVEL: 'warn',
    },
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('serving ')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  // taskset execs node, so the pid is the server's.
  return {
    httpPort,
    pid: proc.pid!,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client that delivers arrivals as a count, and sends prebuilt text. */
interface Client {
  jid: string;
  onMessages: (n: number) => void;
  send(stanzas: string[]): void;
  close(): Promise<void>;
}

const countMessages = (text: string): number => {
  let n = 0;
  for (let i = text.indexOf('<message'); i !== -1; i = text.indexOf('<message', i + 8)) n++;
  return n;
};

// ---- WebSocket --------------------------------------------------------------------------

async function wsClient(port: number, user: string): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['xmpp'], { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const frames: string[] = [];
  let wake: (() => void) | null = null;
  const client: Client = {
    jid: '',
    onMessages: () => {},
    send: (stanzas) => { for (const s of stanzas) ws.send(s); },
    close: async () => {
      ws.close();
      await new Promise((r) => ws.once('close', r));
    },
  };
  let ready = false;
  ws.on('message', (data) => {
    const text = data.toString();
    if (ready) return client.onMessages(text.startsWith('<message') ? 1 : 0);
    frames.push(text);
    wake?.();
  });
  const next = async (test: (f: string) => boolean): Promise<string> => {
    for (;;) {
      const i = frames.findIndex(test);
      if (i !== -1) return frames.splice(i, 1)[0]!;
      await new Promise<void>((r) => { wake = r; });
    }
  };
  const open = `<open xmlns='${FRAMING}' to='localhost' version='1.0'/>`;
  ws.send(open);
  await next((f) => f.startsWith('<stream:features'));
  ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${PASSWORD}`).toString('base64')}</auth>`);
  if (!(await next((f) => f.startsWith('<success') || f.startsWith('<failure'))).startsWith('<success')) throw new Error('login failed');
  ws.send(open);
  await next((f) => f.startsWith('<stream:features'));
  ws.send(`<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>`);
  await next((f) => f.includes("id=\"b\""));
  ws.send(`<presence xmlns='jabber:client'/>`);
  client.jid = `${user}@localhost/r`;
  await sleep(50);
  ready = true;
  return client;
}

// ---- BOSH (hold=1) ----------------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function post(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/http-bind', method: 'POST', agent, headers: { 'content-type': 'text/xml; charset=utf-8' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function boshClient(port: number, user: string): Promise<Client> {
  let rid = 1_000_000 + Math.floor(Math.random() * 1_000_000);
  const created = await post(port, `<body xmlns='${HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' rid='${rid++}' to='localhost' wait='30' hold='1' ver='1.11' xmpp:version='1.0'/>`);
  const sid = /sid='([^']+)'/.exec(created)![1]!;
  const body = (payload: string, extra = ''): string => `<body xmlns='${HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' rid='${rid++}' sid='${sid}'${extra}>${payload}</body>`;
  const auth = await post(port, body(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${PASSWORD}`).toString('base64')}</auth>`));
  if (!auth.includes('<success')) throw new Error(`login failed: ${auth}`);
  await post(port, body('', ` to='localhost' xmpp:restart='true'`));
  await post(port, body(`<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>`));
  await post(port, body(`<presence xmlns='jabber:client'/>`));
  let closed = false;
  let outstanding = 0;
  let queued: string[] = [];
  const client: Client = {
    jid: `${user}@localhost/r`,
    onMessages: () => {},
    send(stanzas) {
      queued.push(...stanzas);
      pump();
    },
    async close() {
      closed = true;
      await post(port, body('', ` type='terminate'`));
    },
  };
  // At most `requests` (2) outstanding: one held for the server to answer on, one carrying
  // what there is to send. Whenever a response comes back a new request goes out.
  const pump = (): void => {
    while (!closed && outstanding < 2 && (queued.length > 0 || outstanding === 0)) {
      const payload = queued.join('');
      queued = [];
      outstanding++;
      post(port, body(payload)).then((text) => {
        outstanding--;
        const n = countMessages(text);
        if (n) client.onMessages(n);
        pump();
      }, () => { outstanding--; });
    }
  };
  pump();
  return client;
}

// ---- the load ---------------------------------------------------------------------------

async function run(kind: 'websocket' | 'bosh', server: Server, pairs: number, window: number): Promise<string> {
  const make = kind === 'websocket' ? wsClient : boshClient;
  const clients: Client[] = [];
  for (let i = 0; i < pairs * 2; i++) clients.push(await make(server.httpPort, `w${i}`));
  const histogram = new LatencyHistogram();
  let measuring = false;
  let received = 0;
  let running = true;
  for (let p = 0; p < pairs; p++) {
    const sender = clients[2 * p]!;
    const receiver = clients[2 * p + 1]!;
    const stanza = chat(receiver.jid);
    const sentAt: number[] = [];
    receiver.onMessages = (n) => {
      const now = performance.now();
      const out: string[] = [];
      for (let k = 0; k < n; k++) {
        const t = sentAt.shift();
        if (measuring && t !== undefined) {
          histogram.record(now - t);
          received++;
        }
        if (running) {
          sentAt.push(now);
          out.push(stanza);
        }
      }
      if (out.length) sender.send(out);
    };
    const first: string[] = [];
    for (let k = 0; k < window; k++) {
      sentAt.push(performance.now());
      first.push(stanza);
    }
    sender.send(first);
  }
  await sleep(WARMUP * 1000);
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  measuring = true;
  await sleep(SECONDS * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cores = (cpuSeconds(server.pid) - cpu0) / elapsed;
  running = false;
  await sleep(500);
  for (const c of clients) await c.close().catch(() => {});
  const s = histogram.summary();
  return `| ${kind}${kind === 'bosh' ? ' (hold=1)' : ''} | ${pairs} x ${window} | ${Math.round(received / elapsed).toLocaleString('en')} | ` +
    `${s.p50Ms.toFixed(2)} / ${s.p99Ms.toFixed(2)} ms | ${cores.toFixed(2)} | ${received ? Math.round((cores * elapsed * 1e6) / received) : '-'} |`;
}

const rows: string[] = [];
for (const kind of args.only!.split(',') as ('websocket' | 'bosh')[]) {
  for (const [pairs, window] of [[50, 10], [5, 2]] as const) {
    const server = await startServer(pairs * 2);
    try {
      process.stderr.write(`${kind} ${pairs}x${window} ...\n`);
      rows.push(await run(kind, server, pairs, window));
    } finally {
      await server.stop();
    }
  }
}
process.stdout.write(['| transport | pairs x in flight | messages/s | latency p50 / p99 | server cores | server CPU µs/message |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n');
agent.destroy();
