// The parser fuzzer in CI: XMPPD_FUZZ_PARSER_SECONDS (default 20) of cases from a seed (fixed under CI=true, see fuzz-env.ts)
// (or XMPPD_FUZZ_SEED); a disagreement with the oracle, an inconsistency between chunkings, a
// crash or a hang fails, printing the seed, the case and its input. See parser-fuzzer.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzSeconds, fuzzSeed } from './fuzz-env.ts';
import { formatFailure, formatParserStats, runParserFuzz } from './parser-fuzzer.ts';

test('parser fuzzer: mutated streams and documents read as the oracle reads them', (t) => {
  const seed = fuzzSeed();
  const seconds = fuzzSeconds('XMPPD_FUZZ_PARSER_SECONDS', 20);
  const { stats, failures } = runParserFuzz({ seed, seconds, stopAtFirst: true });
  t.diagnostic(`parser fuzz, seed ${seed}, ${seconds} s: ${formatParserStats(stats)}`);
  if (failures.length > 0) assert.fail(formatFailure(failures[0]!));
  assert.ok(stats.executions > 0);
});
