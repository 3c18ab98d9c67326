// The reconciliation after a reconnection, against an in-memory stand-in for the routes map
// (the cluster tests run it against real members: test/cluster/short-outage.test.ts). Here
// the cases a real outage makes hard to stage: the members kept their data, an entry of this
// node outlived its session, an event arrives while the snapshot loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IMap } from 'hazelcast-client';
import type { RouteEntry } from 'xmppd';
import { Logger } from '../../../server/log.ts';
import { encodeRoute } from './maps.ts';
import { ReplicatedRoutingTable } from './replicated-routing-table.ts';

type Listener = { added(e: { key: string; value: string }): void; updated(e: { key: string; value: string }): void; removed(e: { key: string }): void };

/** The part of IMap the table uses; events are delivered while `connected`, missed otherwise. */
class FakeMap {
  readonly data = new Map<string, string>();
  private readonly listeners: Listener[] = [];
  connected = true;
  /** Run once, while entrySet() is under way (an event racing the snapshot). */
  duringSnapshot: (() => void) | null = null;

  async addEntryListener(listener: Listener): Promise<string> {
    this.listeners.push(listener);
    return 'l';
  }
  async removeEntryListener(): Promise<boolean> {
    return true;
  }
  async entrySet(): Promise<[string, string][]> {
    const snapshot = [...this.data];
    const during = this.duringSnapshot;
    this.duringSnapshot = null;
    during?.();
    return snapshot;
  }
  async set(key: string, value: string): Promise<void> {
    const had = this.data.has(key);
    this.data.set(key, value);
    if (this.connected) for (const l of this.listeners) (had ? l.updated : l.added)({ key, value });
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
    if (this.connected) for (const l of this.listeners) l.removed({ key });
  }
  async remove(key: string, value: string): Promise<boolean> {
    if (this.data.get(key) !== value) return false;
    await this.delete(key);
    return true;
  }
  async get(key: string): Promise<string | null> {
    return this.data.get(key) ?? null;
  }
}

const route = (jid: string, nodeId: string): RouteEntry => ({ jid, nodeId, available: true, priority: 0 });
const quiet = new Logger('test');

async function table(map: FakeMap, nodeId = 'node-a'): Promise<ReplicatedRoutingTable> {
  const t = new ReplicatedRoutingTable(map as unknown as IMap<string, string>, nodeId, quiet);
  await t.start();
  return t;
}

test('after an outage the members survived: ghosts go, missed routes come, own stale entries leave the map', async () => {
  const map = new FakeMap();
  map.data.set('bob@x/gone', encodeRoute(route('bob@x/gone', 'node-b')));
  const t = await table(map);
  await t.addRoute(route('alice@x/desk', 'node-a'));
  // What another node did while this one heard nothing.
  map.connected = false;
  map.data.delete('bob@x/gone');
  map.data.set('carol@x/new', encodeRoute(route('carol@x/new', 'node-b')));
  // A session of this node that ended meanwhile, whose deletion never reached the map.
  await t.addRoute(route('alice@x/old', 'node-a'));
  map.data.set('alice@x/old', encodeRoute(route('alice@x/old', 'node-a')));
  const failing = map.delete.bind(map);
  map.delete = async () => { throw new Error('cluster unreachable'); };
  await t.removeRoute('alice@x/old');
  map.delete = failing;
  map.connected = true;
  assert.deepEqual(t.all().map((r) => r.jid).sort(), ['alice@x/desk', 'bob@x/gone'], 'before: a ghost, a miss');
  assert.ok(map.data.has('alice@x/old'), 'and a stale entry of its own');

  const counts = await t.reconcile();
  assert.deepEqual(counts, { published: 1, ghosts: 1, missed: 1, stale: 1 });
  assert.deepEqual(t.all().map((r) => `${r.jid}@${r.nodeId}`).sort(), ['alice@x/desk@node-a', 'carol@x/new@node-b']);
  assert.deepEqual([...map.data.keys()].sort(), ['alice@x/desk', 'carol@x/new']);
});

test('after members restarted empty, the live routes are written again and the others\' vanish until they write theirs', async () => {
  const map = new FakeMap();
  const t = await table(map);
  await t.addRoute(route('alice@x/desk', 'node-a'));
  await map.set('bob@x/phone', encodeRoute(route('bob@x/phone', 'node-b')));
  map.data.clear();
  assert.deepEqual(await t.reconcile(), { published: 1, ghosts: 1, missed: 0, stale: 0 });
  assert.deepEqual([...map.data.keys()], ['alice@x/desk']);
  // The other node writes its route again: the event brings it back.
  await map.set('bob@x/phone', encodeRoute(route('bob@x/phone', 'node-b')));
  assert.equal(t.getRoute('bob@x/phone')?.nodeId, 'node-b');
});

test('an event that arrives while the snapshot loads wins over the snapshot', async () => {
  const map = new FakeMap();
  const t = await table(map);
  await map.set('bob@x/phone', encodeRoute(route('bob@x/phone', 'node-b')));
  map.duringSnapshot = () => {
    // Removed and added after the snapshot was taken.
    void map.delete('bob@x/phone');
    void map.set('dave@x/pad', encodeRoute(route('dave@x/pad', 'node-b')));
  };
  await t.reconcile();
  assert.equal(t.getRoute('bob@x/phone'), undefined, 'not brought back by the older snapshot');
  assert.equal(t.getRoute('dave@x/pad')?.nodeId, 'node-b', 'not taken for a ghost');
});
