// `npm run bench`: the whole benchmark. Each server under test runs pinned to one CPU
// (--server-cpu, default 0) and the load generator, a separate process, to the other
// (--generator-cpu, default 1); everything goes over loopback. Prints progress while it
// runs and a Markdown table of every figure at the end (--out FILE also writes all details
// as JSON). See docs/performance.md for what each figure means.
//
//   npm run bench                          this server: micro-benchmarks, logins, messages, memory
//   npm run bench -- --peers               the same load against Prosody and ejabberd too
//   npm run bench -- --repeat 2 --out r.json
//   npm run bench -- --only logins,messages --quick
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LoginsResult } from './load/logins.ts';
import type { Mechanism } from './load/login.ts';
import type { MessagesResult } from './load/messages.ts';
import { progress, sleep } from './load/progress.ts';
import type { SessionsResult } from './load/sessions.ts';
import { runGenerator, runMicro } from './lib/child.ts';
import { machine, Report } from './lib/report.ts';
import { ejabberdVersion, startEjabberd } from './targets/ejabberd.ts';
import { prosodyVersion, startProsody } from './targets/prosody.ts';
import type { Target } from './targets/target.ts';
import { startXmppd, type XmppdTarget } from './targets/xmppd.ts';

const { values: args } = parseArgs({
  options: {
    peers: { type: 'boolean', default: false },
    targets: { type: 'string' },
    only: { type: 'string', default: 'micro,logins,messages,memory' },
    repeat: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    'server-cpu': { type: 'string', default: '0' },
    'generator-cpu': { type: 'string', default: '1' },
  },
});

const SERVER_CPU = Number(args['server-cpu']);
const GENERATOR_CPU = Number(args['generator-cpu']);
const REPEAT = Math.max(1, Number(args.repeat));
const only = new Set(args.only!.split(','));
const targets = (args.targets ?? (args.peers ? 'xmppd,prosody,ejabberd' : 'xmppd')).split(',');
const quick = args.quick;

const D = {
  warmup: quick ? 1 : 2,
  logins: quick ? 4 : 8,
  messages: quick ? 5 : 10,
  loginUsers: 1000,
  memorySteps: quick ? [2000] : [5000, 10000],
  peerMemorySteps: quick ? [2000] : [5000],
  settle: 10,
};

const report = new Report();
report.define({ id: 'logins-plain', label: 'logins/s, PLAIN, a PBKDF2 per login', unit: '50 at once', target: '≥ 550' });
report.define({ id: 'logins-plain-cached', label: 'logins/s, PLAIN, returning user (verified-password cache)', unit: '50 at once' });
report.define({ id: 'logins-scram', label: 'logins/s, SCRAM-SHA-256', unit: '50 at once', target: '≥ 2,000' });
report.define({ id: 'logins-server-cpu', label: 'server CPU during PLAIN logins', unit: 'cores' });
report.define({ id: 'login-cpu-plain', label: 'server CPU per PLAIN login', unit: 'ms' });
report.define({ id: 'login-cpu-scram', label: 'server CPU per SCRAM-SHA-256 login', unit: 'ms' });
report.define({ id: 'msgs', label: 'messages/s, 50 pairs × 10 in flight, to full JID', unit: 'msg/s', target: '≥ 50,000' });
report.define({ id: 'msgs-p50', label: 'p50 latency, 50 × 10', unit: 'ms' });
report.define({ id: 'msgs-p99', label: 'p99 latency, 50 × 10', unit: 'ms' });
report.define({ id: 'msgs-server-cpu', label: 'server CPU during 50 × 10', unit: 'cores' });
report.define({ id: 'msgs-cpu', label: 'server CPU per message, 50 × 10', unit: 'µs' });
report.define({ id: 'msgs-sm', label: 'messages/s, 50 × 10 to full JID, stream management, acks every 5 stanzas', unit: 'msg/s' });
report.define({ id: 'msgs-sm-cpu', label: 'server CPU per message, 50 × 10, stream management', unit: 'µs' });
report.define({ id: 'msgs-bare', label: 'messages/s, 50 pairs × 10 in flight, to bare JID', unit: 'msg/s' });
report.define({ id: 'light-p50', label: 'p50 latency, 5 pairs × 2 in flight', unit: 'ms' });
report.define({ id: 'light-p99', label: 'p99 latency, 5 pairs × 2 in flight', unit: 'ms', target: '≤ 1' });
for (const n of [2000, 5000, 10000]) {
  report.define({ id: `mem-${n}`, label: `RSS per idle session at ${n.toLocaleString('en')}, plain TCP`, unit: 'KiB', target: n === 5000 ? '≤ 10' : undefined });
  report.define({ id: `mem-tls-${n}`, label: `RSS per idle session at ${n.toLocaleString('en')}, STARTTLS`, unit: 'KiB' });
}

async function logins(t: Target, run: number, figure: string, mechanism: Mechanism, users = D.loginUsers): Promise<LoginsResult> {
  const r = await runGenerator<LoginsResult>(GENERATOR_CPU, {
    scenario: 'logins', ...t.endpoint, mechanism, concurrency: 50, users,
    warmupSeconds: D.warmup, seconds: D.logins, serverPids: t.pids,
  });
  if (r.failures) progress(t.name, `${r.failures} logins failed, first: ${r.firstFailure}`);
  report.add(t.name, run, figure, r.perSecond, r);
  return r;
}

async function messages(t: Target, run: number): Promise<void> {
  const mechanism = t.mechanisms.includes('SCRAM-SHA-256') ? 'SCRAM-SHA-256' : 'PLAIN';
  const heavy = await runGenerator<MessagesResult>(GENERATOR_CPU, {
    scenario: 'messages', ...t.endpoint, mechanism, pairs: 50, window: 10, address: 'full',
    warmupSeconds: D.warmup, seconds: D.messages, serverPids: t.pids,
  });
  report.add(t.name, run, 'msgs', heavy.perSecond, heavy);
  report.add(t.name, run, 'msgs-p50', heavy.latency.p50Ms);
  report.add(t.name, run, 'msgs-p99', heavy.latency.p99Ms);
  report.add(t.name, run, 'msgs-server-cpu', heavy.serverCores);
  report.add(t.name, run, 'msgs-cpu', heavy.serverCpuUsPerMessage);
  if (t.name === 'xmppd') {
    // The same load with XEP-0198 on every session; the server asks for an ack every 5 stanzas (its default).
    const sm = await runGenerator<MessagesResult>(GENERATOR_CPU, {
      scenario: 'messages', ...t.endpoint, mechanism, pairs: 50, window: 10, address: 'full', streamManagement: true,
      warmupSeconds: D.warmup, seconds: D.messages, serverPids: t.pids,
    });
    report.add(t.name, run, 'msgs-sm', sm.perSecond, sm);
    report.add(t.name, run, 'msgs-sm-cpu', sm.serverCpuUsPerMessage);
  }
  const bare = await runGenerator<MessagesResult>(GENERATOR_CPU, {
    scenario: 'messages', ...t.endpoint, mechanism, pairs: 50, window: 10, address: 'bare',
    warmupSeconds: D.warmup, seconds: D.messages, serverPids: t.pids,
  });
  report.add(t.name, run, 'msgs-bare', bare.perSecond, bare);
  const light = await runGenerator<MessagesResult>(GENERATOR_CPU, {
    scenario: 'messages', ...t.endpoint, mechanism, pairs: 5, window: 2, address: 'full',
    warmupSeconds: D.warmup, seconds: D.messages, serverPids: t.pids,
  });
  report.add(t.name, run, 'light-p50', light.latency.p50Ms, light);
  report.add(t.name, run, 'light-p99', light.latency.p99Ms);
}

async function memory(t: Target, run: number, starttls: boolean, steps: number[]): Promise<void> {
  const mechanism = t.mechanisms.includes('SCRAM-SHA-256') ? 'SCRAM-SHA-256' : 'PLAIN';
  const r = await runGenerator<SessionsResult>(GENERATOR_CPU, {
    scenario: 'sessions', ...t.endpoint, mechanism, starttls, steps, warmup: 200,
    settleSeconds: D.settle, serverPids: t.pids,
  });
  for (const s of r.steps) report.add(t.name, run, `mem-${starttls ? 'tls-' : ''}${s.sessions}`, s.perSessionKiB, r);
}

async function withTarget<T extends Target>(start: Promise<T>, body: (t: T) => Promise<void>): Promise<void> {
  const t = await start;
  progress(t.name, `listening on ${t.endpoint.host}:${t.endpoint.port}, pid ${t.pids.join(',')}, CPU ${SERVER_CPU}`);
  try {
    await body(t);
  } catch (err) {
    progress(t.name, `failed (log: ${t.logFile}): ${(err as Error).message}`);
    throw err;
  } finally {
    await t.stop();
  }
}

async function benchXmppd(run: number): Promise<void> {
  const users = only.has('memory') ? Math.max(D.loginUsers, ...D.memorySteps) : D.loginUsers;
  if (only.has('memory')) {
    // A fresh server for each kind of session, so one's freed memory does not hide the other's.
    await withTarget(startXmppd({ users, cpu: SERVER_CPU, plainCache: true }), (t) => memory(t, run, false, D.memorySteps));
    await withTarget(startXmppd({ users, cpu: SERVER_CPU, plainCache: true }), (t) => memory(t, run, true, D.memorySteps));
  }
  if (!only.has('logins') && !only.has('messages')) return;
  await withTarget(startXmppd({ users, cpu: SERVER_CPU, plainCache: false }), async (t: XmppdTarget) => {
    if (only.has('logins')) {
      const plain = await logins(t, run, 'logins-plain', 'PLAIN');
      report.add(t.name, run, 'logins-server-cpu', plain.serverCores);
      report.add(t.name, run, 'login-cpu-plain', plain.serverCpuMsPerLogin);
      const scram = await logins(t, run, 'logins-scram', 'SCRAM-SHA-256');
      report.add(t.name, run, 'login-cpu-scram', scram.serverCpuMsPerLogin);
      t.setProperty('xmpp.auth.plain.cache-size', '10000');
      await sleep(3000); // the server polls properties every 2 s
      // 200 accounts, so that the warm-up has logged every one in once and the measured
      // logins are all returning users (50 at a time never overlap on one account).
      await logins(t, run, 'logins-plain-cached', 'PLAIN', 200);
    }
    if (only.has('messages')) await messages(t, run);
  });
}

async function benchPeer(name: 'prosody' | 'ejabberd', run: number): Promise<void> {
  const users = only.has('memory') ? Math.max(D.loginUsers, ...D.peerMemorySteps) : D.loginUsers;
  const start = name === 'prosody' ? startProsody({ users, cpu: SERVER_CPU }) : startEjabberd({ users, cpu: SERVER_CPU });
  await withTarget(start, async (t) => {
    if (name === 'ejabberd') {
      // Accounts go into Mnesia through in-band registration (one PBKDF2 each, on the server).
      await runGenerator(GENERATOR_CPU, { scenario: 'register', ...t.endpoint, count: users, concurrency: 50 });
    }
    if (only.has('logins')) {
      const plain = await logins(t, run, 'logins-plain', 'PLAIN');
      report.add(t.name, run, 'logins-server-cpu', plain.serverCores);
      report.add(t.name, run, 'login-cpu-plain', plain.serverCpuMsPerLogin);
    }
    if (only.has('messages')) await messages(t, run);
    // Last: thousands of sessions leave a larger heap behind, which would slow a garbage
    // collector (Lua's, Erlang's) in the runs after it.
    if (only.has('memory')) await memory(t, run, false, D.peerMemorySteps);
  });
}

async function micro(): Promise<void> {
  for (const script of ['parser.ts', 'sasl.ts']) {
    progress('micro', `bench/${script} on CPU ${SERVER_CPU}`);
    const lines = await runMicro(SERVER_CPU, script);
    for (const line of lines) progress('micro', line);
    report.micro.push({ script: `bench/${script}`, lines });
  }
}

const started = machine();
progress('bench', `${started.cpu}, ${started.cores} cores, node ${started.node}, load average ${(started.loadavg as number[]).join(' ')}`);
progress('bench', `servers on CPU ${SERVER_CPU}, load generator on CPU ${GENERATOR_CPU}; targets: ${targets.join(', ')}; ${REPEAT} run(s)`);
for (const name of targets) {
  if (name === 'prosody' && !prosodyVersion()) progress('bench', 'prosody is not installed: skipped (apt-get install prosody)');
  if (name === 'ejabberd' && !ejabberdVersion()) progress('bench', 'ejabberd is not installed: skipped (apt-get install ejabberd)');
}
if (only.has('micro')) await micro();
for (let run = 1; run <= REPEAT; run++) {
  for (const name of targets) {
    progress('bench', `run ${run}/${REPEAT}: ${name}`);
    if (name === 'xmppd') await benchXmppd(run);
    else if (name === 'prosody' && prosodyVersion()) await benchPeer('prosody', run);
    else if (name === 'ejabberd' && ejabberdVersion()) await benchPeer('ejabberd', run);
  }
}
const ended = machine();
console.log(`\n${started.cpu}, ${started.cores} cores, node ${started.node}; load average at start ${(started.loadavg as number[]).join(' ')}, at end ${(ended.loadavg as number[]).join(' ')}\n`);
console.log(report.table());
for (const m of report.micro) console.log(`\n${m.script}:\n${m.lines.map((l) => `  ${l}`).join('\n')}`);
if (args.out) {
  writeFileSync(args.out, JSON.stringify({ started, ended, ...(report.toJSON() as object) }, null, 2));
  console.log(`\ndetails written to ${args.out}`);
}
