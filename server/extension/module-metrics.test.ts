import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModuleMetrics, type ModuleMetricDefinition } from './module-metrics.ts';

const gauge = (name: string): ModuleMetricDefinition => ({ name, help: 'h', type: 'gauge', read: () => 1 });

test('a metric is followed from its publication to its removal; a follower hears of those published before', () => {
  const metrics = new ModuleMetrics();
  const remove = metrics.add(gauge('xmppd_first'));
  const seen: string[] = [];
  metrics.follow({ added: (m) => seen.push(`+${m.name}`), removed: (n) => seen.push(`-${n}`) });
  const removeSecond = metrics.add(gauge('xmppd_second'));
  remove();
  remove();
  removeSecond();
  assert.deepEqual(seen, ['+xmppd_first', '+xmppd_second', '-xmppd_first', '-xmppd_second']);
  metrics.add(gauge('xmppd_first'));
});

test('names are xmppd_ and lower-case words, counters end in _total, and no name twice', () => {
  const metrics = new ModuleMetrics();
  assert.throws(() => metrics.add(gauge('rooms')), /xmppd_/);
  assert.throws(() => metrics.add(gauge('xmppd_Rooms')), /lower-case/);
  assert.throws(() => metrics.add({ ...gauge('xmppd_rooms'), type: 'counter' }), /_total/);
  metrics.add(gauge('xmppd_rooms'));
  assert.throws(() => metrics.add(gauge('xmppd_rooms')), /published already/);
});

test('a name a follower refuses is not kept', () => {
  const metrics = new ModuleMetrics();
  metrics.follow({ added: (m) => { if (m.name === 'xmppd_taken') throw new Error('taken'); }, removed: () => undefined });
  assert.throws(() => metrics.add(gauge('xmppd_taken')), /taken/);
  metrics.follow({ added: () => undefined, removed: () => undefined });
  assert.throws(() => metrics.add(gauge('xmppd_taken')), /taken/, 'refused again, not "published already"');
});
