// Longer fuzzing runs than CI's, with progress: `npm run fuzz -- [parser|server|all]
// [--seconds N] [--seed S] [--case N] [--workers N]`. Without --seed a fresh one is drawn and
// printed; --case replays one case of that seed (the parser fuzzer prints its input and
// verdict, the server fuzzer runs that one connection against a fresh server).
import { formatFailure, formatParserStats, runParserFuzz, type Failure } from '../test/fuzz/parser-fuzzer.ts';
import { randomSeed } from '../test/fuzz/rng.ts';
import { formatServerFailure, formatServerStats, runServerFuzz } from '../test/fuzz/server-fuzzer.ts';

const args = process.argv.slice(2);
const which = args[0] && !args[0].startsWith('--') ? args.shift()! : 'all';
const option = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : Number(args[i + 1]);
};
if (!['parser', 'server', 'all'].includes(which)) {
  console.error('usage: npm run fuzz -- [parser|server|all] [--seconds N] [--seed S] [--case N] [--workers N]');
  process.exit(2);
}
const seed = (option('seed') ?? (process.env.XMPPD_FUZZ_SEED ? Number(process.env.XMPPD_FUZZ_SEED) : randomSeed())) >>> 0;
const seconds = option('seconds') ?? 300;
const replay = option('case');
let failed = false;

if (which !== 'server') {
  console.log(`parser fuzzer: seed ${seed}, ${replay !== undefined ? `case ${replay}` : `${seconds} s`}`);
  const started = Date.now();
  const { stats, failures } = runParserFuzz({
    seed,
    seconds,
    firstCase: replay,
    maxCases: replay !== undefined ? 1 : undefined,
    progress: (s) => {
      const elapsed = (Date.now() - started) / 1000;
      process.stdout.write(`\r  ${elapsed.toFixed(0)} s: ${s.executions} executions (${(s.executions / elapsed).toFixed(0)}/s), `
        + `${s.disagreements + s.inconsistencies + s.crashes + s.hangs} failures   `);
    },
  });
  console.log(`\n  ${formatParserStats(stats)}`);
  // Failures of one kind at one place repeat: show each kind of detail once.
  const shown = new Set<string>();
  for (const f of failures as Failure[]) {
    const kind = `${f.kind} ${f.detail.slice(0, 50)}`;
    if (shown.has(kind)) continue;
    shown.add(kind);
    console.log(`\n${formatFailure(f)}`);
  }
  failed ||= failures.length > 0;
}

if (which !== 'parser') {
  console.log(`server fuzzer: seed ${seed}, ${replay !== undefined ? `case ${replay}` : `${seconds} s`}`);
  let last = 0;
  const { stats, failures } = await runServerFuzz({
    seed,
    seconds: replay !== undefined ? 60 : seconds,
    workers: option('workers'),
    cases: replay !== undefined ? [replay] : undefined,
    progress: (s) => {
      if (Date.now() - last < 5_000) return;
      last = Date.now();
      console.log(`  ${s.executions} executions, ${s.crashes} crashes, ${s.hangs} hangs, ${s.lostMessages} lost, max ping ${s.maxPingMs} ms, `
        + `RSS ${(s.memory.maxRss / 2 ** 20).toFixed(0)} MiB`);
    },
  });
  console.log(`  ${formatServerStats(stats)}`);
  for (const f of failures) console.log(`\n${formatServerFailure(f, seed)}`);
  failed ||= failures.length > 0;
}
process.exit(failed ? 1 : 0);
