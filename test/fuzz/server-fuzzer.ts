// The whole-stream fuzzer: a real server process (test/helpers/server-process.ts), a
// bystander pair chatting through it, and a few connections at a time that each go through
// the stream's phases correctly up to one, which they send mutated (the stream header,
// STARTTLS, SASL PLAIN or SCRAM, resource binding, or stanzas of every kind the server
// handles). A watchdog pings the server from a bystander (a round trip over HANG_MS is a
// hang) and reads its memory from /status. Crashes are the server process exiting or logging
// an ERROR; lost messages are bystander messages that never arrive. What the server sends back
// must itself be well-formed XMPP (checked with the oracle of the parser fuzzer).
import net from 'node:net';
import tls from 'node:tls';
import { ScramExchange, ScramKeyCache } from '../../bench/load/scram-client.ts';
import { deriveUserKeys } from '../../server/auth/scram-keys.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { chunking, mutateBytes, split } from './mutate.ts';
import { oracleStream } from './oracle.ts';
import { Rng } from './rng.ts';
import { bindRequest, saslPlain, stanza, STANZA_KINDS, type StanzaContext } from './stanzas.ts';
import { streamHeader, type Scope } from './xml-gen.ts';

export const HANG_MS = 2_000;
const PASSWORD = 'secret';
const DOMAIN = 'localhost';
const SASL = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";

export const PHASES = ['header', 'starttls', 'sasl-plain', 'sasl-scram', 'bind', ...STANZA_KINDS.map((k) => `stanza:${k}`)];

export interface ServerFuzzStats {
  executions: number;
  byPhase: Record<string, number>;
  /** Executions whose valid steps before the mutated one did not get the expected answer. */
  setupFailures: number;
  passwordResets: number;
  crashes: number;
  hangs: number;
  lostMessages: number;
  bystanderMessages: number;
  pings: number;
  maxPingMs: number;
  badOutput: number;
  memory: { startRss: number; maxRss: number; endRss: number; startHeap: number; maxHeap: number; endHeap: number };
  /** TCP connections and sessions the server still had once every fuzz connection was gone. */
  leftOver: { connections: number; sessions: number };
}

export interface ServerFailure {
  kind: 'crash' | 'hang' | 'lost' | 'bad-output' | 'leak';
  detail: string;
  /** The executions in flight or just finished when it was seen: seed, case and what they sent. */
  suspects: string[];
}

interface Transcript {
  seed: number;
  index: number;
  phase: string;
  sent: Buffer[];
  /** What the server sent, one XML document per stream. */
  output?: string[];
}

/** One connection's bytes both ways, with waits for what the server answers. */
class Connection {
  private socket: net.Socket;
  private received = '';
  /** Server output, one document per stream (a restart starts a new one); null while what
   *  arrives is not XML (a failed TLS handshake's alert). */
  readonly documents: (string | null)[] = [''];
  private mark = 0;
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: net.Socket, private readonly transcript: Transcript) {
    this.socket = socket;
    this.attach(socket);
  }

  static open(port: number, transcript: Transcript): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Connection(s, transcript)));
      s.once('error', reject);
    });
  }

  private attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.received += text;
      const last = this.documents.length - 1;
      if (this.documents[last] !== null) this.documents[last] += text;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Writes bytes in the given chunk sizes, a tick apart so that the server reads them apart. */
  async send(data: Buffer, sizes: readonly number[] = [data.length]): Promise<void> {
    this.transcript.sent.push(data);
    for (const piece of split(data, sizes)) {
      if (this.closed) return;
      this.socket.write(piece);
      if (sizes.length > 1) await new Promise((r) => setImmediate(r));
    }
  }

  /** Waits for a pattern in what arrived since the last wait; null on timeout or close. */
  async expect(pattern: RegExp, ms = 3_000): Promise<RegExpExecArray | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.received.slice(this.mark));
      if (m) {
        this.mark += m.index + m[0].length;
        return m;
      }
      if (this.closed || Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The stream restarts (after STARTTLS or SASL success): its output is a new document. */
  restart(xml = true): void {
    this.documents.push(xml ? '' : null);
  }

  /** Waits `ms` or until the server closes the connection. */
  async idle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async startTls(): Promise<boolean> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secured = await new Promise<tls.TLSSocket | null>((resolve) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false, servername: DOMAIN }, () => resolve(s));
      s.once('error', () => resolve(null));
    });
    if (!secured) {
      this.closed = true;
      return false;
    }
    this.socket = secured;
    this.restart();
    this.attach(secured);
    return true;
  }

  writeRaw(data: Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  /** Ends the connection one of the ways a client does: politely, abruptly, or by waiting. */
  async finish(rng: Rng): Promise<void> {
    const how = rng.int(3);
    if (how === 0 && !this.closed) this.socket.write('</stream:stream>');
    if (how !== 1) await this.idle(how === 0 ? 300 : 150);
    this.socket.destroy();
  }
}

export interface ServerFuzzOptions {
  seed: number;
  seconds: number;
  /** Connections fuzzing at once. */
  workers?: number;
  /** Only these cases (a replay). */
  cases?: number[];
  progress?: (stats: ServerFuzzStats) => void;
}

export async function runServerFuzz(opts: ServerFuzzOptions): Promise<{ stats: ServerFuzzStats; failures: ServerFailure[]; server: string }> {
  const workers = opts.workers ?? 3;
  const stats: ServerFuzzStats = {
    executions: 0, byPhase: {}, setupFailures: 0, passwordResets: 0, crashes: 0, hangs: 0, lostMessages: 0,
    bystanderMessages: 0, pings: 0, maxPingMs: 0, badOutput: 0,
    memory: { startRss: 0, maxRss: 0, endRss: 0, startHeap: 0, maxHeap: 0, endHeap: 0 },
    leftOver: { connections: 0, sessions: 0 },
  };
  const failures: ServerFailure[] = [];
  const server = await startTestServer({
    properties: { 'xmpp.auth.failure-delay': '0', 'xmpp.c2s.max-connections-per-ip': '1000' },
    env: { XMPPD_LOG_LEVEL: 'warn' },
  });
  const accounts = Array.from({ length: workers }, (_, i) => `fuzz${i}`);
  for (const name of ['alice', 'bob', ...accounts]) await server.addUser(name, PASSWORD);
  const a = await RawClient.login(server.c2sPort, 'alice', PASSWORD, { resource: 'watch', presence: true });
  const b = await RawClient.login(server.c2sPort, 'bob', PASSWORD, { resource: 'watch', presence: true });

  const recent: Transcript[] = [];
  const inFlight = new Set<Transcript>();
  const suspects = (): string[] => [...inFlight, ...recent.slice(-6)].map(describeTranscript);
  const report = (kind: ServerFailure['kind'], detail: string): void => {
    if (failures.length < 20) failures.push({ kind, detail, suspects: suspects() });
  };

  let stopping = false;
  const deadline = Date.now() + opts.seconds * 1000;
  const done = (): boolean => stopping || Date.now() > deadline;

  // The process must stay up and log no error.
  let logOffset = server.logs().length;
  const checkServer = (): void => {
    const logs = server.logs();
    const fresh = logs.slice(logOffset);
    logOffset = logs.length;
    for (const line of fresh.split('\n')) {
      if (/ ERROR |uncaught|unhandled|^\s+at /i.test(line)) {
        stats.crashes++;
        report('crash', `server logged: ${line.slice(0, 500)}`);
      }
    }
    const pid = server.pid;
    let alive = pid !== undefined;
    try {
      if (pid !== undefined) process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive && !stopping) {
      stats.crashes++;
      report('crash', `server process exited:\n${logs.slice(-3000)}`);
      stopping = true;
    }
  };

  // Watchdog: pings from a bystander, their messages to the other, the server's memory.
  const watchdog = (async () => {
    let n = 0;
    while (!done()) {
      const sent = Date.now();
      const body = `bystander ${++n}`;
      a.send(`<message to='bob@${DOMAIN}/watch' type='chat'><body>${body}</body></message>`);
      stats.bystanderMessages++;
      const arrival = b.expect((e) => e.name === 'message' && e.getChildText('body') === body, 10_000)
        .then(() => true, () => false);
      const pong = await a.iq(`<iq type='get' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`, 10_000).then(() => true, () => false);
      const rtt = Date.now() - sent;
      stats.pings++;
      stats.maxPingMs = Math.max(stats.maxPingMs, rtt);
      if (!pong || rtt > HANG_MS) {
        stats.hangs++;
        report('hang', pong ? `a ping took ${rtt} ms` : 'a ping got no answer in 10 s');
      }
      void arrival.then((ok) => {
        if (!ok && !stopping) {
          stats.lostMessages++;
          report('lost', `bystander message '${body}' did not arrive in 10 s`);
        }
      });
      await memory(server, stats);
      checkServer();
      opts.progress?.(stats);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  const scram = new ScramKeyCache();
  let nextCase = 0;
  const cases = opts.cases;
  const worker = async (account: string): Promise<void> => {
    while (!done()) {
      const index = cases ? cases[nextCase++] : nextCase++;
      if (index === undefined) return;
      const rng = new Rng(opts.seed, index);
      const transcript: Transcript = { seed: opts.seed, index, phase: rng.pick(PHASES), sent: [] };
      inFlight.add(transcript);
      try {
        const outcome = await execute(server, rng, transcript, account, scram);
        if (outcome === 'setup-failed') {
          stats.setupFailures++;
          // A mutated password change may have changed the account's password: restore it.
          if (await resetPassword(server, account)) stats.passwordResets++;
        }
      } catch (err) {
        stats.setupFailures++;
        void err;
      } finally {
        inFlight.delete(transcript);
        recent.push(transcript);
        if (recent.length > 50) recent.shift();
      }
      stats.executions++;
      stats.byPhase[transcript.phase] = (stats.byPhase[transcript.phase] ?? 0) + 1;
      for (const doc of transcript.output ?? []) {
        const verdict = oracleStream(Buffer.from(doc));
        if (verdict.rejected !== null) {
          stats.badOutput++;
          report('bad-output', `the server sent XML the oracle refuses (${verdict.rejected}): ${doc.slice(0, 1500)}`);
        }
      }
      if (cases && nextCase >= cases.length) return;
    }
  };
  await Promise.all(accounts.map(worker));
  stopping = true;
  await watchdog;
  await new Promise((r) => setTimeout(r, 500));
  checkServer();

  // Every fuzz connection is gone: the server holds only the bystanders' again.
  const until = Date.now() + 7_000;
  for (;;) {
    const status = await fetchStatus(server);
    stats.leftOver = { connections: (status?.connections?.tcp?.current ?? 0) - 2, sessions: (status?.sessions ?? 0) - 2 };
    if ((stats.leftOver.connections <= 0 && stats.leftOver.sessions <= 0) || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (stats.leftOver.connections > 0 || stats.leftOver.sessions > 0) {
    report('leak', `after the fuzz connections closed the server still had ${stats.leftOver.connections} more connections and ${stats.leftOver.sessions} more sessions than the bystanders'`);
  }
  await memory(server, stats, true);
  await a.close();
  await b.close();
  const logs = server.logs();
  await server.stop();
  return { stats, failures, server: logs };
}

interface Status {
  memory?: { rssBytes: number; heapUsedBytes: number };
  connections?: { tcp?: { current: number } };
  sessions?: number;
}

async function fetchStatus(server: TestServer): Promise<Status | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/status`, { signal: AbortSignal.timeout(5_000) });
    return (await res.json()) as Status;
  } catch {
    return null;
  }
}

async function memory(server: TestServer, stats: ServerFuzzStats, end = false): Promise<void> {
  const m = (await fetchStatus(server))?.memory;
  if (!m) return;
  const s = stats.memory;
  if (s.startRss === 0) {
    s.startRss = m.rssBytes;
    s.startHeap = m.heapUsedBytes;
  }
  s.maxRss = Math.max(s.maxRss, m.rssBytes);
  s.maxHeap = Math.max(s.maxHeap, m.heapUsedBytes);
  if (end) {
    s.endRss = m.rssBytes;
    s.endHeap = m.heapUsedBytes;
  }
}

async function resetPassword(server: TestServer, account: string): Promise<boolean> {
  const storage = await server.storage();
  return storage.users.setKeys(account, await deriveUserKeys(PASSWORD, 4096));
}

function describeTranscript(t: Transcript): string {
  const sent = Buffer.concat(t.sent);
  return `case ${t.index} of seed ${t.seed}, ${t.phase} mutated; sent (base64): ${sent.toString('base64').slice(0, 3000)}`;
}

/** Sends `data` mutated, in a random chunking. */
async function mutated(c: Connection, rng: Rng, data: string): Promise<void> {
  const bytes = mutateBytes(rng, Buffer.from(data), rng.range(1, 3));
  await c.send(bytes, rng.chance(0.5) ? [bytes.length] : chunking(rng, bytes.length));
}

const FEATURES = /<\/stream:features>|<stream:features\/>/;
const CLOSED = /<\/stream:stream>|<stream:error/;

/**
 * One connection: every phase before `transcript.phase` done right, that one mutated, and a few
 * stanzas after it when the server still listens. 'setup-failed' when a valid step was refused.
 */
async function execute(server: TestServer, rng: Rng, transcript: Transcript, account: string, scram: ScramKeyCache): Promise<'ok' | 'setup-failed'> {
  const phase = transcript.phase;
  const c = await Connection.open(server.c2sPort, transcript);
  const ctx: StanzaContext = { domain: DOMAIN, peers: ['alice@localhost', 'bob@localhost', `${account}@localhost`], username: account, password: PASSWORD };
  let outcome: 'ok' | 'setup-failed' = 'ok';
  try {
    let header = streamHeader(rng, DOMAIN);
    const scope: Scope = header.scope;
    const open = async (): Promise<boolean> => {
      await c.send(Buffer.from(header.text));
      return (await c.expect(FEATURES)) !== null;
    };
    if (phase === 'header') {
      await mutated(c, rng, header.text + stanza(rng, ctx, scope));
      await c.expect(CLOSED, 500);
      return outcome;
    }
    if (!(await open())) return (outcome = 'setup-failed');

    if (phase === 'starttls' || rng.chance(0.1)) {
      const request = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
      if (phase === 'starttls') await mutated(c, rng, request);
      else await c.send(Buffer.from(request));
      const answer = await c.expect(/<proceed[^>]*>|<failure[^>]*>|<stream:error/, phase === 'starttls' ? 500 : 3_000);
      if (!answer || !answer[0].startsWith('<proceed')) return (outcome = phase === 'starttls' ? 'ok' : 'setup-failed');
      if (phase === 'starttls' && rng.chance(0.5)) {
        // Not TLS after <proceed/>: the handshake must fail cleanly.
        c.restart(false);
        c.writeRaw(mutateBytes(rng, Buffer.from(header.text), 2));
        await c.idle(300);
        return outcome;
      }
      if (!(await c.startTls())) return (outcome = 'setup-failed');
      header = streamHeader(rng, DOMAIN);
      if (!(await open())) return (outcome = 'setup-failed');
    }

    if (phase === 'sasl-plain') {
      await mutated(c, rng, saslPlain(account, PASSWORD));
      const answer = await c.expect(/<success[^>]*>|<failure[\s\S]*?<\/failure>|<stream:error/, 1_000);
      if (!answer || !answer[0].startsWith('<success')) return outcome;
    } else if (phase === 'sasl-scram' || rng.chance(0.2)) {
      const mechanism = rng.pick(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
      const exchange = new ScramExchange(mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256', account, PASSWORD, scram);
      const first = `<auth ${SASL} mechanism='${mechanism}'>${Buffer.from(exchange.firstMessage()).toString('base64')}</auth>`;
      const mutateFirst = phase === 'sasl-scram' && rng.chance(0.5);
      if (mutateFirst) await mutated(c, rng, first);
      else await c.send(Buffer.from(first));
      const challenge = await c.expect(/<challenge[^>]*>([^<]*)<\/challenge>|<failure[\s\S]*?<\/failure>|<stream:error/, mutateFirst ? 1_000 : 3_000);
      if (!challenge?.[1]) return (outcome = mutateFirst ? 'ok' : 'setup-failed');
      let final: string;
      try {
        final = `<response ${SASL}>${Buffer.from(exchange.finalMessage(Buffer.from(challenge[1], 'base64').toString())).toString('base64')}</response>`;
      } catch {
        return outcome;
      }
      if (phase === 'sasl-scram' && !mutateFirst) await mutated(c, rng, final);
      else await c.send(Buffer.from(final));
      const answer = await c.expect(/<success[^>]*>|<failure[\s\S]*?<\/failure>|<stream:error/, 3_000);
      if (!answer || !answer[0].startsWith('<success')) return (outcome = phase === 'sasl-scram' ? 'ok' : 'setup-failed');
    } else {
      await c.send(Buffer.from(saslPlain(account, PASSWORD)));
      const answer = await c.expect(/<success[^>]*>|<failure[\s\S]*?<\/failure>|<stream:error/);
      if (!answer || !answer[0].startsWith('<success')) return (outcome = 'setup-failed');
    }
    c.restart();
    header = streamHeader(rng, DOMAIN);
    if (!(await open())) return (outcome = 'setup-failed');

    const resource = `r${rng.int(1e6)}`;
    if (phase === 'bind') {
      await mutated(c, rng, bindRequest(rng, resource));
      if (!(await c.expect(/<jid>/, 1_000))) return outcome;
    } else {
      await c.send(Buffer.from(bindRequest(rng, resource)));
      if (!(await c.expect(/<jid>/))) return (outcome = 'setup-failed');
    }

    // Stanzas: valid ones and, for a stanza phase, some of that kind mutated.
    const kind = phase.startsWith('stanza:') ? phase.slice(7) : null;
    if (rng.chance(0.5)) await c.send(Buffer.from('<presence/>'));
    for (let i = rng.range(1, 8); i > 0 && !c.closed; i--) {
      const text = stanza(rng, ctx, scope, kind ?? undefined);
      if (kind && rng.chance(0.6)) await mutated(c, rng, text);
      else await c.send(Buffer.from(text));
      if (rng.chance(0.3)) await c.expect(/<\/iq>|<iq[^>]*\/>/, 200);
    }
    await c.expect(CLOSED, 200);
    return outcome;
  } finally {
    await c.finish(rng);
    transcript.output = c.documents.filter((d): d is string => d !== null && d !== '');
  }
}

export function formatServerStats(s: ServerFuzzStats): string {
  const mb = (n: number): string => (n / 2 ** 20).toFixed(0);
  return `${s.executions} executions over ${Object.keys(s.byPhase).length} phases, ${s.crashes} crashes, ${s.hangs} hangs, `
    + `${s.lostMessages} of ${s.bystanderMessages} bystander messages lost, ${s.badOutput} malformed outputs; `
    + `ping round trip at most ${s.maxPingMs} ms over ${s.pings} pings; server memory RSS ${mb(s.memory.startRss)} -> max ${mb(s.memory.maxRss)} -> ${mb(s.memory.endRss)} MiB, `
    + `heap ${mb(s.memory.startHeap)} -> max ${mb(s.memory.maxHeap)} -> ${mb(s.memory.endHeap)} MiB; `
    + `${s.setupFailures} executions whose valid steps were refused (${s.passwordResets} passwords restored); left over ${s.leftOver.connections} connections, ${s.leftOver.sessions} sessions`;
}

export function formatServerFailure(f: ServerFailure, seed: number): string {
  return [
    `${f.kind}: ${f.detail}`,
    'connections in flight or just finished:',
    ...f.suspects.map((s) => `  ${s}`),
    `replay one: XMPPD_FUZZ_SEED=${seed} npm run fuzz -- server --case N`,
  ].join('\n');
}
