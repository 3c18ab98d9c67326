// `npm run bench:mam`: what the message archive (XEP-0313) costs.
//
// 1. throughput: the one-to-one load of bench/run.ts (50 pairs × 10 in flight, chat to the
//    full JID) against one server, in rounds that alternate archiving off
//    (xmpp.mam.default=never: the module runs, decides, writes nothing) and on (always: two
//    rows per message), so both see the same machine; on the embedded SQLite database and on
//    MariaDB. Also checks that every message was archived twice (rows written vs delivered).
//    Reports the server's CPU per message and its event loop's alone (its first thread: the
//    archive's rows are written by a thread beside it). --threads-cpu N moves the server's
//    other threads to CPU N; --window N keeps N messages per pair in flight instead of 10,
//    for a load the archive can keep up with.
// 2. pages: an archive of --archive messages (1,000,000 by default) on MariaDB, then pages of
//    50 read by its owner over XMPP: the last page, pages after an id anywhere in it, and
//    the same with a contact filter; round-trip p50/p99 (socket to socket, through the server).
//
//   npm run bench:mam
//   npm run bench:mam -- --only pages --archive 200000 --queries 300
//   npm run bench:mam -- --only throughput --rounds 2 --seconds 8 --db sqlite
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger, setLogLevel } from '../server/log.ts';
import { openStorage } from '../server/storage/database.ts';
import type { ArchiveEntry, Storage } from '../server/storage/types.ts';
import { mamQuery, page } from '../test/helpers/mam-client.ts';
import { RawClient } from '../test/helpers/raw-client.ts';
import { LatencyHistogram } from './load/latency-histogram.ts';
import type { MessagesResult } from './load/messages.ts';
import { progress, sleep } from './load/progress.ts';
import { BENCH_PASSWORD, benchUser } from './load/users.ts';
import { killChildren, runGenerator } from './lib/child.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/mariadb.ts';
import { machine } from './lib/report.ts';
import { makeWorkDir, removeWorkDir } from './lib/work-dir.ts';
import { startXmppd, type XmppdTarget } from './targets/xmppd.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'throughput,pages' },
    db: { type: 'string', default: 'sqlite,mysql' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    archive: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '500' },
    // An existing MariaDB database to keep the filled archive in between runs (not dropped).
    database: { type: 'string' },
    // Write a V8 CPU profile of the server of each throughput run into this folder.
    profile: { type: 'string' },
    // The archiving modes each round runs, in order (one alone for a profile of it).
    modes: { type: 'string', default: 'never,always' },
    'server-cpu': { type: 'string', default: '0' },
    'generator-cpu': { type: 'string', default: '1' },
    // Moves the server's threads other than its event loop (the archive's appends among
    // them) to this CPU, to see what the event loop pays when the archive has a core apart.
    'threads-cpu': { type: 'string' },
    // Messages each pair keeps in flight: fewer for a load the archive can keep up with.
    window: { type: 'string', default: '10' },
  },
});
const only = new Set(args.only!.split(','));
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const ARCHIVE = Number(args.archive);
const QUERIES = Number(args.queries);
const SERVER_CPU = Number(args['server-cpu']);
const GENERATOR_CPU = Number(args['generator-cpu']);
const THREADS_CPU = args['threads-cpu'] === undefined ? undefined : Number(args['threads-cpu']);
const PAGE = 50;

const quiet = new Logger('bench');
setLogLevel('warn');

function median(xs: number[]): number {
  return xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : NaN;
}

async function storageOf(url: string): Promise<Storage> {
  const config = url.startsWith('sqlite:') ? { type: 'sqlite' as const, path: url.slice('sqlite:'.length) } : { type: 'mysql' as const, url };
  return openStorage(config, quiet, { migrate: true });
}

/** Pins every thread of `pid` but its first to `cpu`; threads started since are caught by calling it again. */
function pinThreads(pid: number, cpu: number, pinned: Set<string>): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (tid === String(pid) || pinned.has(tid)) continue;
    if (spawnSync('taskset', ['-p', '-c', String(cpu), tid], { stdio: 'ignore' }).status === 0) pinned.add(tid);
  }
}

async function archiveRows(storage: Storage): Promise<number> {
  const row = await storage.knex('mam_entries').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

interface ModeFigures {
  perSecond: number[];
  cpuUs: number[];
  loopUs: number[];
  cores: number[];
}

async function throughput(db: 'sqlite' | 'mysql'): Promise<void> {
  let scratch: BenchDatabase | null = null;
  const dir = makeWorkDir('mam-sqlite');
  if (db === 'mysql') scratch = await createBenchDatabase();
  const url = scratch?.url ?? `sqlite:${join(dir, 'xmppd.sqlite')}`;
  const t: XmppdTarget = await startXmppd({ users: 100, cpu: SERVER_CPU, plainCache: true, databaseUrl: url, cpuProfileDir: args.profile });
  progress('mam', `${db}: xmppd pid ${t.pids[0]} on CPU ${SERVER_CPU}${THREADS_CPU === undefined ? '' : ` (its other threads on CPU ${THREADS_CPU})`}, generator on CPU ${GENERATOR_CPU}`);
  const storage = await storageOf(url);
  const figures: Record<'never' | 'always', ModeFigures> = {
    never: { perSecond: [], cpuUs: [], loopUs: [], cores: [] },
    always: { perSecond: [], cpuUs: [], loopUs: [], cores: [] },
  };
  let delivered = 0;
  let log = '';
  let rowsBefore = await archiveRows(storage);
  const pinned = new Set<string>();
  const pinning = THREADS_CPU === undefined ? undefined : setInterval(() => pinThreads(t.pids[0]!, THREADS_CPU, pinned), 500);
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of args.modes!.split(',') as ('never' | 'always')[]) {
        t.setProperty('xmpp.mam.default', mode);
        await sleep(3000); // the server polls properties every 2 s
        const r = await runGenerator<MessagesResult>(GENERATOR_CPU, {
          scenario: 'messages', ...t.endpoint, mechanism: 'PLAIN', pairs: 50, window: Number(args.window), address: 'full',
          warmupSeconds: 2, seconds: SECONDS, serverPids: t.pids,
        });
        figures[mode].perSecond.push(r.perSecond);
        figures[mode].cpuUs.push(r.serverCpuUsPerMessage);
        figures[mode].loopUs.push(r.serverEventLoopCpuUsPerMessage);
        figures[mode].cores.push(r.serverCores);
        progress('mam', `${db} round ${round}/${ROUNDS}, archiving ${mode === 'always' ? 'on ' : 'off'}: ${Math.round(r.perSecond).toLocaleString('en')} msg/s, ${r.serverCpuUsPerMessage.toFixed(1)} µs CPU/msg (event loop ${r.serverEventLoopCpuUsPerMessage.toFixed(1)}), server ${r.serverCores.toFixed(2)} cores, p99 ${r.latency.p99Ms} ms`);
        if (mode === 'always') {
          // Every message of the run (warm-up included) should be two rows; the writer may
          // still be at work for a moment after the load stops.
          await sleep(2000);
          const rows = await archiveRows(storage);
          delivered = rows - rowsBefore;
          progress('mam', `${db}: ${delivered.toLocaleString('en')} archive rows written in this round (${(delivered / 2).toLocaleString('en')} messages × 2)`);
          rowsBefore = rows;
        }
      }
    }
  } finally {
    clearInterval(pinning);
    log = readFileSync(t.logFile, 'utf8');
    await t.stop();
    await storage.close();
    await scratch?.drop();
    removeWorkDir(dir);
  }
  const dropped = (log.match(/archive writes are behind/g) ?? []).length + (log.match(/could not be written/g) ?? []).length;
  const off = median(figures.never.perSecond);
  const on = median(figures.always.perSecond);
  const cpuOff = median(figures.never.cpuUs);
  const cpuOn = median(figures.always.cpuUs);
  const loopOff = median(figures.never.loopUs);
  const loopOn = median(figures.always.loopUs);
  console.log(`| ${db} | ${Math.round(off).toLocaleString('en')} | ${Math.round(on).toLocaleString('en')} | ${(((off - on) / off) * 100).toFixed(1)} % | ${cpuOff.toFixed(1)} / ${cpuOn.toFixed(1)} µs | ${loopOff.toFixed(1)} / ${loopOn.toFixed(1)} µs (${(((loopOn - loopOff) / loopOff) * 100).toFixed(0)} % more) | ${figures.never.cores.map((c) => c.toFixed(2)).join(', ')} / ${figures.always.cores.map((c) => c.toFixed(2)).join(', ')} | ${dropped ? `${dropped} warnings of dropped rows` : 'none dropped'} |`);
}

/** An archive of `count` messages for u0, with u1..u10 in turn, written in chunks. */
async function fillArchive(storage: Storage, count: number, from: number): Promise<void> {
  const chunk = 5000;
  const start = Date.now() - count * 1000;
  const t0 = performance.now();
  for (let done = from; done < count; done += chunk) {
    const entries: ArchiveEntry[] = [];
    for (let i = done; i < Math.min(count, done + chunk); i++) {
      const contact = `${benchUser(1 + (i % 10))}@localhost`;
      entries.push({
        owner: benchUser(0), id: `a${i.toString(36).padStart(8, '0')}`, with: contact, withResource: 'r', outgoing: i % 2 === 0,
        at: new Date(start + i * 1000),
        stanza: `<message xmlns="jabber:client" from="${contact}/r" to="${benchUser(0)}@localhost/r" type="chat" id="m${i}"><body>hello there, how are you doing today? (${i})</body></message>`,
      });
    }
    await storage.archive.append(entries);
    if ((done / chunk) % 20 === 0) {
      const rate = (done - from + entries.length) / ((performance.now() - t0) / 1000);
      progress('mam', `archive: ${(done + entries.length).toLocaleString('en')} of ${count.toLocaleString('en')} messages written (${Math.round(rate).toLocaleString('en')}/s)`);
    }
  }
}

async function pages(): Promise<void> {
  const scratch = args.database ? null : await createBenchDatabase();
  const url = args.database ?? scratch!.url;
  let t: XmppdTarget | null = null;
  const storage = await storageOf(url);
  try {
    // A kept database has the archive (u0's) and the accounts of the last run: the accounts
    // are made again, the archive only filled up to the size asked for.
    await storage.knex('users').delete();
    t = await startXmppd({ users: 20, cpu: SERVER_CPU, plainCache: true, databaseUrl: url });
    const have = (await storage.archive.count(benchUser(0), {}, ARCHIVE)) ?? ARCHIVE;
    await fillArchive(storage, ARCHIVE, have);
    await storage.knex.raw('ANALYZE TABLE mam_entries, mam_names');
    const client = await RawClient.login(t.endpoint.port, benchUser(0), BENCH_PASSWORD, { resource: 'r' });
    const scenarios: { name: string; query: (i: number) => Parameters<typeof mamQuery>[1] }[] = [
      { name: 'last page (RSM before empty)', query: () => ({ rsm: `<max>${PAGE}</max><before/>` }) },
      { name: 'page after an id anywhere', query: () => ({ rsm: `<max>${PAGE}</max><after>a${Math.floor(Math.random() * (ARCHIVE - PAGE)).toString(36).padStart(8, '0')}</after>` }) },
      { name: 'page before an id anywhere', query: () => ({ rsm: `<max>${PAGE}</max><before>a${Math.floor(PAGE + Math.random() * (ARCHIVE - PAGE)).toString(36).padStart(8, '0')}</before>` }) },
      { name: 'last page with one contact (with)', query: () => ({ form: { with: `${benchUser(1 + Math.floor(Math.random() * 10))}@localhost` }, rsm: `<max>${PAGE}</max><before/>` }) },
    ];
    for (const s of scenarios) {
      const h = new LatencyHistogram();
      for (let i = 0; i < 20; i++) await mamQuery(client, s.query(i)); // warm-up
      for (let i = 0; i < QUERIES; i++) {
        const t0 = performance.now();
        const answer = await mamQuery(client, s.query(i));
        h.record(performance.now() - t0);
        if (answer.ids.length !== PAGE) throw new Error(`${s.name}: ${answer.ids.length} results: ${String(answer.iq).slice(0, 300)} ${JSON.stringify(page(answer))}`);
      }
      const sum = h.summary();
      console.log(`| ${s.name} | ${ARCHIVE.toLocaleString('en')} | ${QUERIES} | ${sum.p50Ms} ms | ${sum.p99Ms} ms | ${sum.maxMs} ms |`);
    }
    await client.close();
  } finally {
    await t?.stop();
    await storage.close();
    await scratch?.drop();
  }
}

process.on('SIGINT', () => {
  killChildren();
  process.exit(130);
});
const m = machine();
progress('mam', `${m.cpu}, ${m.cores} cores, node ${m.node}, load average ${(m.loadavg as number[]).join(' ')}`);
if (only.has('throughput')) {
  console.log('| database | msg/s, archiving off | msg/s, archiving on | cost | server CPU per message off / on | event loop CPU per message off / on | server cores off / on | archive rows |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const db of args.db!.split(',') as ('sqlite' | 'mysql')[]) await throughput(db);
}
if (only.has('pages')) {
  console.log(`| query (pages of ${PAGE}, MariaDB) | archive | queries | p50 | p99 | max |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  await pages();
}
const end = machine();
progress('mam', `done; load average ${(end.loadavg as number[]).join(' ')}`);
