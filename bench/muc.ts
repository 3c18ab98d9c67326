// `npm run bench:muc`: group chat (XEP-0045), one room with 1,000 occupants.
//
//   joins   1,000 users join a room that has 20 messages of history (the services' default
//           history on join), 50 at a time: joins per second, overall and as the room fills
//   steady  a few senders keep messages in flight into the full room (5 × 2, then 1 × 1):
//           messages delivered to occupants per second, and the latency from send to
//           receipt at each occupant; every occupant must get every message, in order
//
// on this server alone and on ejabberd (Debian's, with mod_muc) in the same run, each pinned
// to one CPU (--server-cpu, default 0) with the load generator on the other (--generator-cpu,
// default 1), alternating run by run (--repeat, default 3) so both see the same machine. Then
// (target "cluster") the same with the occupants and senders spread over two xmppd nodes of
// one cluster (MariaDB and one Hazelcast member, as bench/sm-failover.ts), node A on CPU 0,
// node B on CPU 1, the generator left to the scheduler. Any join refused, history short,
// message missing or out of order at any occupant fails the run (exit status 1) and says where.
// Prints progress while it runs and a Markdown table at the end (--out FILE: all details as
// JSON). See docs/performance.md, "Group chat".
//
//   npm run bench:muc
//   npm run bench:muc -- --targets xmppd,ejabberd --repeat 2
//   npm run bench:muc -- --targets cluster --occupants 200 --loads 2x1
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { GroupChatParams, GroupChatResult, SteadyLoad } from './load/group-chat.ts';
import type { Endpoint, Mechanism } from './load/login.ts';
import { progress } from './load/progress.ts';
import { writeBenchAccounts } from './lib/accounts.ts';
import { startBenchCluster, waitForMembers } from './lib/bench-cluster.ts';
import { killChildren, runGenerator } from './lib/child.ts';
import { machine, Report } from './lib/report.ts';
import { Teardown } from './lib/teardown.ts';
import { makeWorkDir, removeWorkDir } from './lib/work-dir.ts';
import { ejabberdVersion, startEjabberd } from './targets/ejabberd.ts';
import type { Target } from './targets/target.ts';
import { startXmppd } from './targets/xmppd.ts';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'xmppd,ejabberd,cluster' },
    repeat: { type: 'string', default: '3' },
    occupants: { type: 'string', default: '1000' },
    history: { type: 'string', default: '20' },
    'join-concurrency': { type: 'string', default: '50' },
    loads: { type: 'string', default: '5x2,1x1' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string' },
    'server-cpu': { type: 'string', default: '0' },
    'generator-cpu': { type: 'string', default: '1' },
    'node-a-cpu': { type: 'string', default: '0' },
    'node-b-cpu': { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'warn' },
  },
});

const cpuArg = (v: string | undefined): number | null => (v === undefined || v === 'none' ? null : Number(v));
const SERVER_CPU = Number(args['server-cpu']);
const GENERATOR_CPU = cpuArg(args['generator-cpu']);
const REPEAT = Math.max(1, Number(args.repeat));
const OCCUPANTS = Math.max(1, Number(args.occupants));
const HISTORY = Number(args.history);
const targets = args.targets!.split(',');
const LOADS: SteadyLoad[] = args.loads!.split(',').map((l) => {
  const m = /^(\d+)x(\d+)$/.exec(l);
  if (!m) throw new Error(`--loads: ${l} is not SENDERSxWINDOW`);
  return { senders: Number(m[1]), window: Number(m[2]) };
});
const loadId = (l: SteadyLoad): string => `${l.senders}x${l.window}`;
/** xmppd's service is conference.<domain>, as is ejabberd's by default (conference.@HOST@). */
const SERVICE = 'conference.localhost';

const report = new Report();
const occupants = OCCUPANTS.toLocaleString('en');
report.define({ id: 'joins', label: `joins/s, ${occupants} into a room with ${HISTORY} messages of history`, unit: `${args['join-concurrency']} at once` });
report.define({ id: 'joins-first', label: 'joins/s, the first hundred', unit: 'joins/s' });
report.define({ id: 'joins-last', label: `joins/s, the last hundred (room near ${occupants})`, unit: 'joins/s' });
report.define({ id: 'join-p99', label: 'p99 join, presence sent to subject received', unit: 'ms' });
report.define({ id: 'joins-cpu', label: 'server CPU during the joins', unit: 'cores' });
report.define({ id: 'join-cpu', label: 'server CPU per join (history, presences to and from everyone in)', unit: 'ms' });
for (const l of LOADS) {
  const what = `${l.senders} sender${l.senders > 1 ? 's' : ''} × ${l.window} in flight`;
  report.define({ id: `msgs-${loadId(l)}`, label: `messages delivered to occupants per second, ${what}`, unit: 'deliveries/s' });
  report.define({ id: `p50-${loadId(l)}`, label: `p50 send to receipt at an occupant, ${what}`, unit: 'ms' });
  report.define({ id: `p99-${loadId(l)}`, label: `p99 send to receipt at an occupant, ${what}`, unit: 'ms' });
  report.define({ id: `cpu-${loadId(l)}`, label: `server CPU per delivery, ${what}`, unit: 'µs' });
  report.define({ id: `gen-${loadId(l)}`, label: `load generator CPU, ${what}`, unit: 'cores' });
  report.define({ id: `busy-${loadId(l)}`, label: `whole machine busy (2 cores; other work included), ${what}`, unit: 'cores' });
}

function record(server: string, run: number, r: GroupChatResult): void {
  report.add(server, run, 'joins', r.joins.perSecond, r);
  report.add(server, run, 'joins-first', r.joins.firstHundredPerSecond);
  report.add(server, run, 'joins-last', r.joins.lastHundredPerSecond);
  report.add(server, run, 'join-p99', r.joins.latency.p99Ms);
  report.add(server, run, 'joins-cpu', r.joins.serverCores);
  report.add(server, run, 'join-cpu', (r.joins.serverCores * r.joins.seconds * 1000) / r.joins.joins);
  for (const l of r.loads) {
    report.add(server, run, `msgs-${loadId(l)}`, l.perSecond);
    report.add(server, run, `p50-${loadId(l)}`, l.latency.p50Ms);
    report.add(server, run, `p99-${loadId(l)}`, l.latency.p99Ms);
    report.add(server, run, `cpu-${loadId(l)}`, l.serverCpuUsPerDelivery);
    report.add(server, run, `gen-${loadId(l)}`, l.generatorCores);
    report.add(server, run, `busy-${loadId(l)}`, l.machine.busyCores);
  }
}

function scenario(endpoint: Endpoint, mechanism: Mechanism, run: number, serverPids: number[], more?: Endpoint[]): { scenario: 'group-chat' } & GroupChatParams {
  return {
    scenario: 'group-chat', ...endpoint, mechanism, ...(more ? { moreEndpoints: more.map(({ host, port }) => ({ host, port })) } : {}),
    service: SERVICE, room: `bench-${run}-${Date.now().toString(36)}`, occupants: OCCUPANTS, history: HISTORY,
    joinConcurrency: Number(args['join-concurrency']), loads: LOADS,
    warmupSeconds: Number(args.warmup), seconds: Number(args.seconds), serverPids,
  };
}

let failed = 0;
/** One run against one server: a failure is reported and counted, and the other runs go on. */
async function measure(server: string, run: number, generatorCpu: number | null, s: ReturnType<typeof scenario>, logFile: string): Promise<void> {
  progress('bench', `run ${run}/${REPEAT}: ${server}`);
  try {
    record(server, run, await runGenerator<GroupChatResult>(generatorCpu, s));
  } catch (err) {
    failed++;
    progress(server, `FAILED (server log: ${logFile}): ${(err as Error).message}`);
  }
}

const teardown = new Teardown();
teardown.onSignals(killChildren);
const started = machine();
progress('bench', `${started.cpu}, ${started.cores} cores, node ${started.node}, load average ${(started.loadavg as number[]).join(' ')}`);
try {
  // Both single servers are started once and take turns, run by run, on the same CPU.
  const singles: { target: Target; mechanism: Mechanism }[] = [];
  if (targets.includes('xmppd')) {
    const t = await startXmppd({ users: OCCUPANTS + 1, cpu: SERVER_CPU, plainCache: true, properties: { 'xmpp.muc.max-occupants': '0' } });
    teardown.add('xmppd', () => t.stop());
    singles.push({ target: t, mechanism: 'SCRAM-SHA-256' });
  }
  if (targets.includes('ejabberd')) {
    if (!ejabberdVersion()) {
      progress('bench', 'ejabberd is not installed: skipped (apt-get install ejabberd)');
    } else {
      const t = await startEjabberd({ users: OCCUPANTS + 1, cpu: SERVER_CPU });
      teardown.add('ejabberd', () => t.stop());
      // Accounts go into Mnesia through in-band registration.
      await runGenerator(GENERATOR_CPU, { scenario: 'register', ...t.endpoint, count: OCCUPANTS + 1, concurrency: 50 });
      singles.push({ target: t, mechanism: 'SCRAM-SHA-1' });
    }
  }
  for (const { target } of singles) progress(target.name, `listening on ${target.endpoint.port}, pid ${target.pids.join(',')}, CPU ${SERVER_CPU}`);
  for (let run = 1; run <= REPEAT; run++) {
    for (const { target, mechanism } of singles) {
      await measure(target.name, run, GENERATOR_CPU, scenario(target.endpoint, mechanism, run, target.pids), target.logFile);
    }
  }
  for (const { target } of singles.splice(0)) await target.stop();

  if (targets.includes('cluster')) {
    const work = makeWorkDir('xmppd-muc');
    teardown.add('scratch folder', () => removeWorkDir(work));
    const { storage, start } = await startBenchCluster(work, teardown, args['log-level']!, {
      'xmpp.c2s.shaper.rate': '0', 'xmpp.muc.max-occupants': '0', 'xmpp.mam.default': 'never',
    });
    await writeBenchAccounts(storage, OCCUPANTS + 1);
    const a = await start('a', cpuArg(args['node-a-cpu']));
    await waitForMembers(a, 1);
    const b = await start('b', cpuArg(args['node-b-cpu']));
    await waitForMembers(a, 2);
    await waitForMembers(b, 2);
    progress('cluster', `nodes A (pid ${a.pid}) and B (pid ${b.pid}) clustered; occupants alternate between them`);
    for (let run = 1; run <= REPEAT; run++) {
      await measure('xmppd, 2 nodes', run, null, scenario(a.endpoint, 'SCRAM-SHA-256', run, [a.pid, b.pid], [b.endpoint]), `${a.logFile}, ${b.logFile}`);
    }
  }
} catch (err) {
  failed++;
  progress('bench', `FAILED: ${(err as Error).stack ?? err}`);
} finally {
  await teardown.run();
}

const ended = machine();
console.log(`\n${started.cpu}, ${started.cores} cores, node ${started.node}; load average at start ${(started.loadavg as number[]).join(' ')}, at end ${(ended.loadavg as number[]).join(' ')}`);
console.log(`${occupants} occupants and the owner in one room, ${HISTORY} messages of history; ejabberd ${ejabberdVersion() ?? 'not installed'}\n`);
console.log(report.table());
if (args.out) {
  writeFileSync(args.out, JSON.stringify({ started, ended, ...(report.toJSON() as object) }, null, 2));
  console.log(`\ndetails written to ${args.out}`);
}
if (failed) console.log(`\n${failed} run(s) FAILED: see the lines marked FAILED above`);
process.exit(failed ? 1 : 0);
