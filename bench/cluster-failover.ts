// `npm run bench:failover`: how long the contacts of a node's users wait to hear they went
// unavailable when that node is killed with -9, with the default failure detection
// (hazelcast.heartbeat.seconds 2, hazelcast.node.timeout.seconds 10), and that a node merely
// frozen for less than the node timeout is not taken for dead. Two xmppd nodes on one MariaDB
// database and one Hazelcast member (the shipped member.xml); a watcher on node A has every
// user on node B as a contact. Each run: kill -9 node B, time until the watcher has the
// unavailable presence of the first and of the last of them; then node B is started again.
// Then node B is frozen (SIGSTOP) for --freeze seconds and resumed: the watcher must be told
// nothing. Prints a Markdown table. See docs/performance.md, "Failover".
//
//   npm run bench:failover
//   npm run bench:failover -- --repeat 5 --users 20 --freeze 8
import { parseArgs } from 'node:util';
import { RawClient } from '../test/helpers/raw-client.ts';
import { writeBenchAccounts } from './lib/accounts.ts';
import { startBenchCluster, waitForMembers } from './lib/bench-cluster.ts';
import { machine } from './lib/report.ts';
import { Teardown } from './lib/teardown.ts';
import { makeWorkDir, removeWorkDir } from './lib/work-dir.ts';
import { progress, sleep } from './load/progress.ts';
import { BENCH_PASSWORD, benchUser } from './load/users.ts';
import type { ClusterNode } from './targets/xmppd-cluster-node.ts';

const { values: args } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    users: { type: 'string', default: '10' },
    freeze: { type: 'string', default: '8' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const REPEAT = Math.max(1, Number(args.repeat));
const USERS = Math.max(1, Number(args.users));
const FREEZE_S = Number(args.freeze);
const WAIT_MS = 60_000;

const friendOf = (jid: string) => ({ jid, name: null, subscription: 'both' as const, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] });

const teardown = new Teardown();
teardown.onSignals(() => undefined);
const started = machine();
const kills: { run: number; firstMs: number; lastMs: number }[] = [];
let frozenTold = -1;
let exitCode = 0;
const clients: RawClient[] = [];

try {
  const work = makeWorkDir('xmppd-failover');
  teardown.add('scratch folder', () => removeWorkDir(work));
  const { storage, start } = await startBenchCluster(work, teardown, args['log-level']!);
  await writeBenchAccounts(storage, USERS + 1);
  const watcher = benchUser(0);
  const users = Array.from({ length: USERS }, (_, i) => benchUser(i + 1));
  for (const u of users) {
    await storage.roster.put(watcher, friendOf(`${u}@localhost`));
    await storage.roster.put(u, friendOf(`${watcher}@localhost`));
  }

  const a = await start('a');
  await waitForMembers(a, 1);
  const alice = await RawClient.login(a.endpoint.port, watcher, BENCH_PASSWORD, { resource: 'watch', presence: true });
  clients.push(alice);

  /** Node B with every user logged in, all seen available by the watcher. */
  const nodeB = async (): Promise<ClusterNode> => {
    const b = await start('b');
    await waitForMembers(b, 2);
    await waitForMembers(a, 2);
    for (const u of users) {
      clients.push(await RawClient.login(b.endpoint.port, u, BENCH_PASSWORD, { resource: 'r', presence: true }));
      await alice.expect((el) => el.name === 'presence' && el.attrs.from === `${u}@localhost/r` && !el.attrs.type, WAIT_MS);
    }
    return b;
  };
  const unavailable = (u: string) => (el: { name: string; attrs: Record<string, string | undefined> }) =>
    el.name === 'presence' && el.attrs.from === `${u}@localhost/r` && el.attrs.type === 'unavailable';

  progress('failover', `${started.cpu}, ${started.cores} cores, node ${started.node}; ${USERS} users on node B, their contact on node A`);
  for (let run = 1; run <= REPEAT; run++) {
    const b = await nodeB();
    // Not at a heartbeat's edge: the figure would flatter or wrong the detection.
    await sleep(1000 + Math.random() * 2000);
    const t0 = performance.now();
    process.kill(b.pid, 'SIGKILL');
    const times = await Promise.all(users.map((u) => alice.expect(unavailable(u), WAIT_MS).then(() => performance.now() - t0)));
    const row = { run, firstMs: Math.round(Math.min(...times)), lastMs: Math.round(Math.max(...times)) };
    kills.push(row);
    progress('failover', `run ${run}: kill -9 -> first contact told ${(row.firstMs / 1000).toFixed(2)} s, last ${(row.lastMs / 1000).toFixed(2)} s`);
    await b.stop().catch(() => undefined);
    await waitForMembers(a, 1);
    alice.inbox.splice(0);
  }

  if (FREEZE_S > 0) {
    const b = await nodeB();
    process.kill(b.pid, 'SIGSTOP');
    await sleep(FREEZE_S * 1000);
    process.kill(b.pid, 'SIGCONT');
    await sleep(3000);
    frozenTold = alice.inbox.filter((el) => users.some((u) => unavailable(u)(el))).length;
    progress('failover', `node B frozen ${FREEZE_S} s and resumed: ${frozenTold} unavailable presences at the watcher`);
  }
} catch (err) {
  progress('failover', `failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  for (const c of clients) c.destroy();
  await teardown.run();
}

if (kills.length) {
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(`\n${started.cpu}, ${started.cores} cores, node ${started.node}; defaults: heartbeat 2 s, node timeout 10 s; ${USERS} users on the killed node\n`);
  console.log('| run | kill -9 → first contact told | → last contact told |');
  console.log('|---|---|---|');
  for (const k of kills) console.log(`| ${k.run} | ${(k.firstMs / 1000).toFixed(2)} s | ${(k.lastMs / 1000).toFixed(2)} s |`);
  console.log(`| median | ${(median(kills.map((k) => k.firstMs)) / 1000).toFixed(2)} s | ${(median(kills.map((k) => k.lastMs)) / 1000).toFixed(2)} s |`);
  if (frozenTold >= 0) console.log(`\nfrozen ${FREEZE_S} s (under the node timeout) and resumed: ${frozenTold} contacts told unavailable`);
}
process.exit(exitCode);
