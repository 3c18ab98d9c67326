// Compares the per-message cost of two checkouts (say main before and after a change) in one
// process, their rounds interleaved, so that both see the same machine load and the same
// JIT; a machine shared with other work makes two separate runs too noisy to tell 5 % apart.
// Run: node --import tsx bench/message-cost-compare.ts BEFORE_DIR AFTER_DIR [--rounds N] [--count N]
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [beforeDir, afterDir] = process.argv.slice(2, 4);
if (!beforeDir || !afterDir) {
  console.error('usage: message-cost-compare.ts BEFORE_DIR AFTER_DIR [--rounds N] [--count N]');
  process.exit(2);
}
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const rounds = arg('--rounds', 21);
const count = arg('--count', 100_000);

type Path = (count: number) => () => number;
const load = async (dir: string): Promise<() => number> => {
  const mod = (await import(pathToFileURL(join(resolve(dir), 'bench', 'message-cost.ts')).href)) as { messagePath: Path };
  return mod.messagePath(count);
};
const before = await load(beforeDir);
const after = await load(afterDir);
before();
after();
const samples = { before: [] as number[], after: [] as number[] };
for (let i = 0; i < rounds; i++) {
  // Alternate which goes first, so neither always runs right after a collection.
  const order = i % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
  for (const which of order) samples[which].push((which === 'before' ? before : after)());
  process.stderr.write(`round ${i + 1}/${rounds}: before ${samples.before.at(-1)!.toFixed(3)} µs, after ${samples.after.at(-1)!.toFixed(3)} µs\n`);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const m = { before: median(samples.before), after: median(samples.after) };
console.log(JSON.stringify({
  bench: 'message-cost-compare', messages: count, rounds,
  beforeMedianMicros: Number(m.before.toFixed(3)), afterMedianMicros: Number(m.after.toFixed(3)),
  change: `${(((m.after - m.before) / m.before) * 100).toFixed(1)} %`,
  node: process.version,
}));
