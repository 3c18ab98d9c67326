import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from './latency-histogram.ts';

test('percentiles are exact to the 10 µs bucket', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 100); // 0.01 ms .. 10 ms
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50Ms - 5) <= 0.01, `p50 ${s.p50Ms}`);
  assert.ok(Math.abs(s.p99Ms - 9.9) <= 0.01, `p99 ${s.p99Ms}`);
  assert.equal(s.maxMs, 10);
});

test('values beyond the range land in the last bucket and report the true maximum', () => {
  const h = new LatencyHistogram();
  h.record(0.5);
  h.record(25_000);
  assert.equal(h.percentile(100), 25_000);
});

test('reset forgets everything', () => {
  const h = new LatencyHistogram();
  h.record(3);
  h.reset();
  assert.equal(h.count, 0);
  assert.ok(Number.isNaN(h.percentile(50)));
});
