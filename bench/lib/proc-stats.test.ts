import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMachineCpu } from './proc-stats.ts';

test('machine CPU from /proc/stat: busy is user, nice, system, irq and softirq; steal apart; idle and iowait left out', () => {
  const stat = 'cpu  371677 258 63087 471198 1748 10 7089 216 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 0\n';
  const cpu = parseMachineCpu(stat);
  assert.equal(cpu.busy, (371677 + 258 + 63087 + 10 + 7089) / 100);
  assert.equal(cpu.steal, 2.16);
  // Older kernels stop after fewer columns.
  assert.deepEqual(parseMachineCpu('cpu 100 0 100 500\n'), { busy: 2, steal: 0 });
  assert.throws(() => parseMachineCpu('intr 0\n'), /cpu line/);
});
