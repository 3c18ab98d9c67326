import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IMap } from 'hazelcast-client';
import { Logger } from '../../../server/log.ts';
import { encodeMember } from './maps.ts';
import { Membership, type Departure } from './membership.ts';
import type { ProbeResult } from './link-probe.ts';

type Listener = Partial<Record<'added' | 'updated' | 'removed' | 'expired' | 'evicted', (e: { key: string; value: string }) => void>>;

/** The few map calls Membership makes, in memory; events are fired by the test. */
class FakeMap {
  readonly entries = new Map<string, string>();
  listener: Listener = {};
  async addEntryListener(l: Listener): Promise<string> { this.listener = l; return 'l'; }
  async removeEntryListener(): Promise<boolean> { return true; }
  async get(k: string): Promise<string | null> { return this.entries.get(k) ?? null; }
  async set(k: string, v: string): Promise<void> { this.entries.set(k, v); }
  async entrySet(): Promise<[string, string][]> { return [...this.entries]; }
  async containsKey(k: string): Promise<boolean> { return this.entries.has(k); }
  async delete(k: string): Promise<void> { this.entries.delete(k); }
  async remove(k: string, v?: string): Promise<boolean> {
    if (this.entries.get(k) !== v) return false;
    this.entries.delete(k);
    this.listener.removed?.({ key: k, value: v ?? '' });
    return true;
  }
}

async function membership(probe: ProbeResult): Promise<{ map: FakeMap; left: [string, Departure][]; stop(): Promise<void> }> {
  const map = new FakeMap();
  const left: [string, Departure][] = [];
  const m = new Membership(map as unknown as IMap<string, string>, 'a', { address: '127.0.0.1:1', joinedAt: 1 }, { heartbeatMs: 100, timeoutMs: 300 },
    { joined: () => {}, left: (id, how) => left.push([id, how]), lostSelf: () => {} }, new Logger('test'), () => true, async () => probe);
  await m.start();
  return { map, left, stop: () => m.stop() };
}

const b = { address: '127.0.0.1:2', joinedAt: 2 };

test('a node removed after its leaving mark left on purpose; removed without one, it was found dead', async () => {
  const { map, left, stop } = await membership('open');
  map.listener.added!({ key: 'b', value: encodeMember(b) });
  map.listener.updated!({ key: 'b', value: encodeMember({ ...b, leaving: true }) });
  map.listener.removed!({ key: 'b', value: '' });
  map.listener.added!({ key: 'c', value: encodeMember({ ...b, address: '127.0.0.1:3' }) });
  map.listener.removed!({ key: 'c', value: '' });
  assert.deepEqual(left, [['b', 'left'], ['c', 'dead']]);
  await stop();
});

test('an expired node is dead if its port refuses, else it may be frozen', async () => {
  for (const [probe, how] of [['refused', 'dead'], ['open', 'expired'], ['unknown', 'expired']] as const) {
    const { map, left, stop } = await membership(probe);
    map.listener.added!({ key: 'b', value: encodeMember(b) });
    map.listener.expired!({ key: 'b', value: '' });
    await sleep(0);
    assert.deepEqual(left, [['b', how]], probe);
    await stop();
  }
});

test('a silent node is taken for dead only when its port refuses, and its entry removed', async () => {
  const open = await membership('open');
  open.map.listener.added!({ key: 'b', value: encodeMember(b) });
  await sleep(400);
  assert.deepEqual(open.left, [], 'silent but there: left to its time to live');
  await open.stop();

  const refused = await membership('refused');
  refused.map.entries.set('b', encodeMember(b));
  refused.map.listener.added!({ key: 'b', value: encodeMember(b) });
  // Silent for 2.5 heartbeats (250 ms), then probed: on a loaded machine the timers run late.
  for (const until = Date.now() + 5_000; !refused.left.length && Date.now() < until;) await sleep(20);
  assert.deepEqual(refused.left, [['b', 'dead']]);
  assert.equal(refused.map.entries.has('b'), false, 'its entry removed for every node to hear');
  await refused.stop();
});
