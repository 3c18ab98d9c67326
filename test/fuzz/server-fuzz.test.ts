// The whole-stream fuzzer in CI: a real server for XMPPD_FUZZ_SERVER_SECONDS (default 35)
// of mutated connections in every phase beside a chatting bystander pair. A crash, a hang,
// a lost bystander message, malformed output or connections left behind fail, printing the
// seed and what the connections in flight had sent. See server-fuzzer.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzSeconds, fuzzSeed } from './fuzz-env.ts';
import { formatServerFailure, formatServerStats, runServerFuzz } from './server-fuzzer.ts';

test('server fuzzer: mutated streams in every phase leave the server and its other users unharmed', async (t) => {
  const seed = fuzzSeed();
  const seconds = fuzzSeconds('XMPPD_FUZZ_SERVER_SECONDS', 35);
  const { stats, failures } = await runServerFuzz({ seed, seconds });
  t.diagnostic(`server fuzz, seed ${seed}, ${seconds} s: ${formatServerStats(stats)}`);
  if (failures.length > 0) assert.fail(failures.slice(0, 3).map((f) => formatServerFailure(f, seed)).join('\n\n'));
  assert.ok(stats.executions > 0);
});
