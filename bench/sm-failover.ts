// `npm run bench:resume`: stream management resumption after a node is killed. Two xmppd
// nodes on one MariaDB database and one Hazelcast member; --sessions clients (1,000 by
// default) log in to node B, enable resumption, and each gets one message it does not
// acknowledge. Then node B is killed with -9 and every client, as soon as its connection
// drops, connects to node A and resumes with the previous id and h=0, all at once. Measured
// from the kill: when each resumption is answered, how many resumed (from the replicas node A
// keeps of node B's sessions) or failed, and whether each got its unacknowledged message
// again. Prints progress and a Markdown table. See docs/performance.md, "Resumption after a
// node is killed".
//
//   npm run bench:resume
//   npm run bench:resume -- --sessions 200
import { parseArgs } from 'node:util';
import type { Element } from '../server/xml/element.ts';
import { RawClient } from '../test/helpers/raw-client.ts';
import { writeBenchAccounts } from './lib/accounts.ts';
import { startBenchCluster, waitForMembers } from './lib/bench-cluster.ts';
import { machine } from './lib/report.ts';
import { Teardown } from './lib/teardown.ts';
import { makeWorkDir, removeWorkDir } from './lib/work-dir.ts';
import { progress, sleep } from './load/progress.ts';
import { BENCH_PASSWORD, benchUser } from './load/users.ts';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1000' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const SESSIONS = Math.max(1, Number(args.sessions));
const NS_SM = 'urn:xmpp:sm:3';
const WAIT_MS = 120_000;
/** Logins at once while the sessions are set up (not measured). */
const SETUP_PARALLEL = 50;

const isSm = (name: string) => (el: Element): boolean => el.name === name && el.attrs.xmlns === NS_SM;
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

interface Outcome { ms: number; resumed: boolean; resent: boolean }

const teardown = new Teardown();
const clients: RawClient[] = [];
teardown.onSignals(() => { for (const c of clients) c.destroy(); });
const started = machine();
let exitCode = 0;
let outcomes: Outcome[] = [];
let sentCount = 0;

try {
  const work = makeWorkDir('xmppd-resume');
  teardown.add('scratch folder', () => removeWorkDir(work));
  const { storage, start } = await startBenchCluster(work, teardown, args['log-level']!, { 'xmpp.c2s.shaper.rate': '0' });
  await writeBenchAccounts(storage, SESSIONS + 1);
  const a = await start('a');
  await waitForMembers(a, 1);
  const b = await start('b');
  await waitForMembers(a, 2);
  await waitForMembers(b, 2);
  progress('resume', `${started.cpu}, ${started.cores} cores, node ${started.node}; ${SESSIONS} sessions on node B`);

  // The sender is on node A, so each message crosses to B, which replicates it back to A.
  const sender = await RawClient.login(a.endpoint.port, benchUser(0), BENCH_PASSWORD, { resource: 's' });
  clients.push(sender);
  const users = Array.from({ length: SESSIONS }, (_, i) => benchUser(i + 1));
  const held: { user: string; client: RawClient; id: string }[] = [];
  for (let i = 0; i < users.length; i += SETUP_PARALLEL) {
    held.push(...await Promise.all(users.slice(i, i + SETUP_PARALLEL).map(async (user) => {
      const client = await RawClient.login(b.endpoint.port, user, BENCH_PASSWORD, { resource: 'r' });
      clients.push(client);
      const enabled = client.expect(isSm('enabled'), WAIT_MS);
      client.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
      return { user, client, id: (await enabled).attrs.id! };
    })));
    if ((i / SETUP_PARALLEL) % 4 === 0) progress('resume', `${held.length} sessions with resumption on node B`);
  }
  for (const { user } of held) sender.send(`<message to='${user}@localhost/r' type='chat' id='m-${user}'><body>before the kill</body></message>`);
  await Promise.all(held.map(({ user, client }) => client.expect((el) => el.name === 'message' && el.attrs.id === `m-${user}`, WAIT_MS)));
  sentCount = held.length;
  progress('resume', `each session got one message it did not acknowledge; waiting 1 s for the replicas`);
  await sleep(1000);

  const t0 = performance.now();
  process.kill(b.pid, 'SIGKILL');
  let done = 0;
  const ticker = setInterval(() => progress('resume', `${done} of ${held.length} answered, ${((performance.now() - t0) / 1000).toFixed(1)} s after the kill`), 1000);
  outcomes = await Promise.all(held.map(async ({ user, client, id }): Promise<Outcome> => {
    await client.closed;
    const back = await RawClient.connect(a.endpoint.port);
    clients.push(back);
    await back.open();
    const auth = await back.authPlain(user, BENCH_PASSWORD);
    if (auth.name !== 'success') throw new Error(`login of ${user} on node A failed: ${auth}`);
    await back.open();
    const answer = back.expect((el) => isSm('resumed')(el) || isSm('failed')(el), WAIT_MS);
    back.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
    const resumed = (await answer).name === 'resumed';
    const ms = performance.now() - t0;
    const resent = resumed && (await back.expect((el) => el.name === 'message' && el.attrs.id === `m-${user}`, 10_000).then(() => true, () => false));
    done++;
    return { ms, resumed, resent };
  }));
  clearInterval(ticker);
} catch (err) {
  progress('resume', `failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  for (const c of clients) c.destroy();
  await teardown.run();
}

if (outcomes.length) {
  const times = outcomes.map((o) => o.ms).sort((x, y) => x - y);
  const resumed = outcomes.filter((o) => o.resumed).length;
  const resent = outcomes.filter((o) => o.resent).length;
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`\n${started.cpu}, ${started.cores} cores, node ${started.node}; ${outcomes.length} sessions on the killed node, each with one unacknowledged message\n`);
  console.log('| sessions | resumed | failed | unacknowledged message sent again | kill -9 → first answered | p50 | p99 | all answered |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| ${outcomes.length} | ${resumed} | ${outcomes.length - resumed} | ${resent} of ${sentCount} | ${s(times[0]!)} | ${s(percentile(times, 50))} | ${s(percentile(times, 99))} | ${s(times.at(-1)!)} |`);
  if (resumed !== outcomes.length) exitCode = 1;
}
process.exit(exitCode);
