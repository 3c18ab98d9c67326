// `npm run bench:cluster`: two xmppd nodes clustered through one Hazelcast member, on one
// MariaDB database, under the one-to-one message load of bench/run.ts. Senders log in to
// node A and receivers to node B, so every message crosses nodes (router -> cluster link ->
// the other node); for comparison the same load with both ends on node A, while clustered.
// Prints progress every second and a Markdown table (--out FILE: every detail as JSON).
// Everything it starts or creates (nodes, member, database, scratch folder) is removed at the
// end, on failure, and on Ctrl-C. See docs/performance.md, "Two nodes, clustered".
//
//   npm run bench:cluster
//   npm run bench:cluster -- --repeat 2 --out cluster.json
//   npm run bench:cluster -- --only cross-full --profile      CPU profile of each node
//   npm run bench:cluster -- --plugin DIR                     another build of the plugin (plugin.json, index.js)
//
// Layout (a 2-core machine): node A on CPU 0, node B on CPU 1, the load generator and the
// member left to the scheduler (--node-a-cpu, --node-b-cpu, --generator-cpu; "none" unpins).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hazelcastVersion } from '../scripts/hazelcast-jar.ts';
import { Logger, setLogLevel } from '../server/log.ts';
import { openStorage } from '../server/storage/database.ts';
import type { MessagesParams, MessagesResult } from './load/messages.ts';
import { progress, sleep } from './load/progress.ts';
import { writeBenchAccounts } from './lib/accounts.ts';
import { killChildren, runGenerator } from './lib/child.ts';
import { clusterRow, clusterTable, type ClusterRow } from './lib/cluster-report.ts';
import { formatSummary, summarizeProfile } from './lib/cpu-profile.ts';
import { startBenchMember, writeClientConfig } from './lib/hazelcast-member.ts';
import { createBenchDatabase } from './lib/mariadb.ts';
import { machine } from './lib/report.ts';
import { Teardown } from './lib/teardown.ts';
import { makeWorkDir, removeWorkDir } from './lib/work-dir.ts';
import { PLUGIN_DIR, startClusterNode, type ClusterNode } from './targets/xmppd-cluster-node.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'cross-full,cross-bare,cross-light,local,local-light' },
    repeat: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'jit-warmup': { type: 'string', default: '5' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    plugin: { type: 'string' },
    top: { type: 'string', default: '30' },
    'node-a-cpu': { type: 'string', default: '0' },
    'node-b-cpu': { type: 'string', default: '1' },
    'generator-cpu': { type: 'string', default: 'none' },
    'log-level': { type: 'string', default: 'warn' },
  },
});

const cpuArg = (v: string | undefined): number | null => (v === undefined || v === 'none' ? null : Number(v));
const NODE_A_CPU = cpuArg(args['node-a-cpu']);
const NODE_B_CPU = cpuArg(args['node-b-cpu']);
const GENERATOR_CPU = cpuArg(args['generator-cpu']);
const REPEAT = Math.max(1, Number(args.repeat));
const CLUSTER_TIMEOUT_MS = 60_000;

interface Scenario {
  id: string;
  label: string;
  pairs: number;
  window: number;
  address: 'full' | 'bare';
  /** Receivers on node B (every message crosses), else on node A with the senders. */
  cross: boolean;
}

const SCENARIOS: Scenario[] = [
  { id: 'cross-full', label: 'A → B, 50 × 10, full JID', pairs: 50, window: 10, address: 'full', cross: true },
  { id: 'cross-bare', label: 'A → B, 50 × 10, bare JID', pairs: 50, window: 10, address: 'bare', cross: true },
  { id: 'cross-light', label: 'A → B, 5 × 2, full JID', pairs: 5, window: 2, address: 'full', cross: true },
  { id: 'local', label: 'A → A, 50 × 10, full JID', pairs: 50, window: 10, address: 'full', cross: false },
  { id: 'local-light', label: 'A → A, 5 × 2, full JID', pairs: 5, window: 2, address: 'full', cross: false },
];
const wanted = args.only!.split(',');
const unknown = wanted.filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown.length) {
  process.stderr.write(`bench:cluster: unknown scenario ${unknown.join(', ')}; one of ${SCENARIOS.map((s) => s.id).join(', ')}\n`);
  process.exit(2);
}
const scenarios = SCENARIOS.filter((s) => wanted.includes(s.id));
const accounts = Math.max(...scenarios.map((s) => s.pairs * 2));

/** The plugin as `npm run prepare` bundled it; a bundle older than its sources would measure old code. */
function checkPluginBundle(): void {
  const bundle = join(PLUGIN_DIR, 'index.js');
  let built: number;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    throw new Error('plugins/hazelcast/index.js is missing: run `npm run prepare` (npm install does it too)');
  }
  const src = join(PLUGIN_DIR, 'src');
  const newer = readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && statSync(join(src, f)).mtimeMs > built);
  if (newer.length) throw new Error(`plugins/hazelcast/index.js is older than ${newer.join(', ')}: run \`npm run prepare\` first`);
}

function versions(): Record<string, string> {
  // java -version writes to stderr.
  const javaVersion = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr ?? '';
  const client = JSON.parse(readFileSync(join(PLUGIN_DIR, '..', '..', 'node_modules', 'hazelcast-client', 'package.json'), 'utf8')) as { version: string };
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  return { hazelcastMember: hazelcastVersion(), hazelcastClient: client.version, java: javaVersion.split('\n')[0]?.trim() ?? '', commit: git };
}

async function waitForCluster(nodes: ClusterNode[]): Promise<void> {
  const ids = nodes.map((n) => n.nodeId);
  const deadline = Date.now() + CLUSTER_TIMEOUT_MS;
  let seen: string[][] = [];
  for (;;) {
    seen = await Promise.all(nodes.map((n) => n.members().catch(() => [])));
    if (seen.every((m) => ids.every((id) => m.includes(id)))) return;
    if (Date.now() > deadline) {
      const logs = nodes.map((n) => `${n.nodeId} (${n.logFile}):\n${readFileSync(n.logFile, 'utf8').split('\n').slice(-20).join('\n')}`).join('\n');
      throw new Error(`no ${ids.length}-node cluster after ${CLUSTER_TIMEOUT_MS / 1000} s (members seen: ${JSON.stringify(seen)})\n${logs}`);
    }
    await sleep(500);
  }
}

const cpuName = (cpu: number | null): string => (cpu === null ? 'any CPU' : `CPU ${cpu}`);
const teardown = new Teardown();
let interrupted = false;
teardown.onSignals(() => {
  interrupted = true;
  killChildren();
});
const rows: ClusterRow[] = [];
const details: { scenario: string; run: number; loadavg: number[]; result: MessagesResult }[] = [];
const started = machine();
let exitCode = 0;
let versionInfo: Record<string, string> = {};

try {
  if (args.plugin) progress('cluster', `plugin from ${args.plugin}`);
  else checkPluginBundle();
  const v = (versionInfo = versions());
  progress('cluster', `${started.cpu}, ${started.cores} cores, node ${started.node}, Hazelcast member ${v.hazelcastMember} (${v.java}), client ${v.hazelcastClient}, commit ${v.commit}, load average ${(started.loadavg as number[]).join(' ')}`);
  progress('cluster', `node A on ${cpuName(NODE_A_CPU)}, node B on ${cpuName(NODE_B_CPU)}, load generator on ${cpuName(GENERATOR_CPU)}, member on any CPU`);

  const work = makeWorkDir('xmppd-cluster');
  teardown.add('scratch folder', () => removeWorkDir(work));
  const database = await createBenchDatabase();
  teardown.add(`database ${database.name}`, () => database.drop());
  progress('cluster', `database ${database.name} created`);

  const member = await startBenchMember(join(work, 'member.log'));
  teardown.add('Hazelcast member', () => member.stop());
  progress('cluster', `Hazelcast member ${member.address} (cluster ${member.clusterName}), pid ${member.pid}`);
  writeClientConfig(join(work, 'client.xml'), member);

  setLogLevel('warn'); // this process's storage logs (migrations) are not the benchmark's
  const storage = await openStorage({ type: 'mysql', url: database.url }, new Logger('bench'), { migrate: true });
  teardown.add('storage connection', () => storage.close());
  const properties: Record<string, string> = {
    'clustering.enabled': 'true',
    'hazelcast.startup.delay.seconds': '0',
    'hazelcast.config.xml.directory': work,
    'hazelcast.config.xml.filename': 'client.xml',
    'xmpp.c2s.max-connections-per-ip': '0',
    'xmpp.c2s.shaper.rate': '0',
  };
  for (const [name, value] of Object.entries(properties)) await storage.properties.set(name, value);

  const profileDir = args.profile ? join(work, 'profiles') : undefined;
  const nodes: ClusterNode[] = [];
  // One after the other: node A joins first and is the senior node.
  for (const [name, cpu] of [['a', NODE_A_CPU], ['b', NODE_B_CPU]] as const) {
    const dir = join(work, `node-${name}`);
    const cpuProfileDir = profileDir && join(profileDir, name);
    mkdirSync(cpuProfileDir ?? dir, { recursive: true });
    const node = await startClusterNode({
      nodeId: `node-${name}`, cpu, databaseUrl: database.url, dir, logLevel: args['log-level']!, cpuProfileDir, plugin: args.plugin,
    });
    teardown.add(`node ${name.toUpperCase()}`, () => node.stop());
    nodes.push(node);
    progress('cluster', `node ${name.toUpperCase()}: c2s ${node.endpoint.port}, http ${node.httpPort}, pid ${node.pid}, ${cpuName(cpu)}`);
  }
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  const t0 = performance.now();
  await waitForCluster(nodes);
  progress('cluster', `both nodes report a 2-node cluster in /status (${((performance.now() - t0) / 1000).toFixed(1)} s after node B listened)`);

  await writeBenchAccounts(storage, accounts);
  progress('cluster', `${accounts} accounts registered`);

  const watchPids = { 'node A': a.pid, 'node B': b.pid, member: member.pid };
  const load = (s: Scenario, warmupSeconds: number, seconds: number): Promise<MessagesResult> => {
    const params: MessagesParams = {
      ...a.endpoint, mechanism: 'SCRAM-SHA-256', pairs: s.pairs, window: s.window, address: s.address,
      warmupSeconds, seconds, serverPids: [a.pid, b.pid], watchPids,
      ...(s.cross ? { receiverEndpoint: { host: b.endpoint.host, port: b.endpoint.port } } : {}),
    };
    return runGenerator<MessagesResult>(GENERATOR_CPU, { scenario: 'messages', ...params });
  };
  // Fresh nodes run their per-stanza code unoptimized at first: whichever scenario came first
  // would pay for it. Both paths (across, and within node A) get some load, not measured.
  const jitSeconds = Number(args['jit-warmup']);
  if (jitSeconds > 0) {
    for (const cross of [true, false]) {
      const s = scenarios.find((x) => x.cross === cross);
      if (!s) continue;
      progress('cluster', `warming up the nodes: ${s.label}, ${jitSeconds} s, not measured`);
      await load(s, jitSeconds - 1, 1);
      await sleep(2000);
    }
  }
  for (let run = 1; run <= REPEAT; run++) {
    for (const s of scenarios) {
      const loadavg = machine().loadavg as number[];
      progress('cluster', `run ${run}/${REPEAT}: ${s.label} (load average ${loadavg.join(' ')})`);
      const result = await load(s, Number(args.warmup), Number(args.seconds));
      const row = clusterRow(s.label, run, result);
      rows.push(row);
      details.push({ scenario: s.id, run, loadavg, result });
      progress('cluster', `${s.label}: ${result.perSecond.toLocaleString('en')} messages/s, p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms, µs per message: ${Object.entries(row.usPerMessage).map(([k, x]) => `${k} ${x}`).join(', ')}`);
      // The sessions just closed: their routes leave the cluster before the next logins.
      await sleep(2000);
    }
  }

  if (profileDir) {
    // A node writes its profile when it exits.
    for (const n of nodes) await n.stop();
    for (const name of ['a', 'b']) {
      const dir = join(profileDir, name);
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`node ${name.toUpperCase()} wrote no profile into ${dir}`);
      console.log(`\nnode ${name.toUpperCase()} (whole run: start-up, joining, logins, warm-up and the measured load):\n`);
      console.log(formatSummary(summarizeProfile(join(dir, file), Number(args.top))));
    }
  }
} catch (err) {
  // Errors of this run name what failed and what to do; a stack helps only with a bug. An
  // interrupted generator is no failure to report.
  if (!interrupted) progress('cluster', `failed: ${process.env.BENCH_DEBUG === '1' ? (err as Error).stack : (err as Error).message}`);
  exitCode = 1;
} finally {
  await teardown.run();
}

if (rows.length) {
  const ended = machine();
  console.log(`\n${started.cpu}, ${started.cores} cores, node ${started.node}; load average at start ${(started.loadavg as number[]).join(' ')}, at end ${(ended.loadavg as number[]).join(' ')}`);
  console.log(`node A on ${cpuName(NODE_A_CPU)}, node B on ${cpuName(NODE_B_CPU)}, generator on ${cpuName(GENERATOR_CPU)}, member on any CPU\n`);
  console.log(clusterTable(rows, ['node A', 'node B', 'member'], ['node A', 'node B']));
  if (args.out) {
    writeFileSync(args.out, JSON.stringify({ started, ended, versions: versionInfo, layout: { nodeA: NODE_A_CPU, nodeB: NODE_B_CPU, generator: GENERATOR_CPU }, rows, details }, null, 2));
    console.log(`\ndetails written to ${args.out}`);
  }
}
process.exit(exitCode);
