import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessagesResult } from '../load/messages.ts';
import { clusterMembers, clusterRow, clusterTable, cpuPerMessageUs } from './cluster-report.ts';

test('the members of a cluster as /status names them; none for a standalone node or a body that is not one', () => {
  const status = { state: 'running', cluster: { enabled: true, members: [{ nodeId: 'node-a', address: '127.0.0.1:1' }, { nodeId: 'node-b' }], seniorNodeId: 'node-a' } };
  assert.deepEqual(clusterMembers(status), ['node-a', 'node-b']);
  assert.deepEqual(clusterMembers({ state: 'running' }), []);
  assert.deepEqual(clusterMembers({ cluster: { members: 'two' } }), []);
  assert.deepEqual(clusterMembers({ cluster: { members: [null, { nodeId: 7 }, { nodeId: 'node-c' }] } }), ['node-c']);
  assert.deepEqual(clusterMembers(null), []);
});

test('CPU per message: cores × seconds over messages, in µs; undefined without messages', () => {
  assert.equal(cpuPerMessageUs(0.5, 10, 500_000), 10);
  assert.equal(cpuPerMessageUs(0.99, 10.2, 712_345), 14.2);
  assert.ok(Number.isNaN(cpuPerMessageUs(0.5, 10, 0)));
});

const result = (over: Partial<MessagesResult>): MessagesResult => ({
  pairs: 50, window: 10, address: 'full', seconds: 10, messages: 400_000, perSecond: 40_000, errors: 0,
  latency: { count: 400_000, meanMs: 12, p50Ms: 11.5, p90Ms: 20, p99Ms: 31.25, maxMs: 60 },
  serverCores: 1.6, generatorCores: 0.3, serverCpuUsPerMessage: 40, serverEventLoopCpuUsPerMessage: 30,
  processCores: { 'node A': 0.96, 'node B': 0.64, member: 0.01 },
  machine: { busyCores: 1.95, stealCores: 0 },
  ...over,
});

test('a row per run: each process\'s CPU per message, and the nodes\' sum in the table', () => {
  const row = clusterRow('across nodes, full JID', 1, result({}));
  assert.deepEqual(row.cores, { 'node A': 0.96, 'node B': 0.64, member: 0.01, generator: 0.3 });
  assert.equal(row.others, 0.04); // 1.95 busy, 1.91 of it ours
  assert.deepEqual(row.usPerMessage, { 'node A': 24, 'node B': 16, member: 0.3 });
  const light = clusterRow('light', 2, result({ perSecond: 900, errors: 3, processCores: { 'node A': 0.2 }, machine: { busyCores: 1.5, stealCores: 0.25 } }));
  const table = clusterTable([row, light], ['node A', 'node B', 'member'], ['node A', 'node B']);
  const lines = table.split('\n');
  assert.equal(lines[0], '| scenario | run | messages/s | p50 / p99 ms | node A cores | node B cores | member cores | generator cores | other cores | node A µs/msg | node B µs/msg | member µs/msg | node A + node B µs/msg |');
  assert.equal(lines[2], '| across nodes, full JID | 1 | 40,000 | 11.5 / 31.25 | 0.96 | 0.64 | 0.01 | 0.3 | 0.04 | 24 | 16 | 0.3 | 40 |');
  // A process not measured in a run shows as a dash, and so does a sum that lacks a part.
  assert.equal(lines[3], '| light | 2 | 900 | 11.5 / 31.25 (3 bounced) | 0.2 | – | – | 0.3 | 1 (+0.25 steal) | 5 | – | – | – |');
});
