import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../storage/types.ts';
import { ROSTER_CHANGED, type RosterChangedEvent } from './roster-events.ts';
import { newItem } from './roster-item.ts';
import { RosterStore } from './roster-store.ts';
import { bindSession, contextFor, testServer } from './test-server.ts';

const item = (jid: string, subscription: RosterItem['subscription'] = 'both'): RosterItem => ({ ...newItem(jid, true), subscription });

test('the roster of an account with a session here is read once and kept current by changes', async () => {
  const server = testServer();
  const store = new RosterStore(contextFor(server, { name: 'roster', storage: ['roster'] }));
  await server.roster.put('alice', item('bob@localhost'));
  bindSession(server, 'alice@localhost/a');
  const first = await store.load('alice');
  assert.equal(first.items.size, 1);
  const reads = server.roster.reads;
  await store.change('alice', 'carol@localhost', () => ({ write: item('carol@localhost', 'from') }));
  assert.equal((await store.get('alice', 'carol@localhost'))?.subscription, 'from');
  const again = await store.load('alice');
  assert.deepEqual([...again.items.keys()].sort(), ['bob@localhost', 'carol@localhost']);
  assert.equal(again.version, '2');
  await store.change('alice', 'bob@localhost', () => ({ write: null }));
  assert.equal((await store.load('alice')).items.has('bob@localhost'), false);
  assert.equal(server.roster.reads, reads, 'no storage reads while cached');
});

test('a change made while the roster is being read is not lost', async () => {
  const server = testServer();
  const store = new RosterStore(contextFor(server, { name: 'roster', storage: ['roster'] }));
  let open!: () => void;
  server.roster.gate = new Promise((r) => { open = r; });
  // Begun while alice has no session here: decided from storage, written while her first
  // session's load waits at the gate with the rows it read.
  const changing = store.change('alice', 'bob@localhost', () => ({ write: item('bob@localhost') }));
  bindSession(server, 'alice@localhost/a');
  const loading = store.load('alice');
  await changing;
  open();
  assert.equal((await loading).items.has('bob@localhost'), true);
  assert.equal((await store.load('alice')).version, '1');
});

test('accounts without a session here are not cached; the cache goes with the last session', async () => {
  const server = testServer();
  const store = new RosterStore(contextFor(server, { name: 'roster', storage: ['roster'] }));
  await store.load('bob');
  await store.load('bob');
  assert.equal(store.cachedCount, 0);
  const one = bindSession(server, 'bob@localhost/1');
  const two = bindSession(server, 'bob@localhost/2');
  await store.load('bob');
  assert.equal(store.cachedCount, 1);
  server.sessions.unbind(one, 'test');
  assert.equal(store.cachedCount, 1, 'another session is still here');
  server.sessions.unbind(two, 'test');
  assert.equal(store.cachedCount, 0);
});

test('every change is announced with the item before and after', async () => {
  const server = testServer();
  const store = new RosterStore(contextFor(server, { name: 'roster', storage: ['roster'] }));
  const seen: RosterChangedEvent[] = [];
  server.events.on<RosterChangedEvent>(ROSTER_CHANGED, (e) => { seen.push(e); });
  const a = item('bob@localhost', 'none');
  await store.change('alice', a.jid, () => ({ write: a }));
  await store.change('alice', a.jid, () => ({ write: null }));
  assert.deepEqual(seen.map((e) => [e.jid, e.previous?.subscription ?? null, e.item?.subscription ?? null, e.version]),
    [['bob@localhost', null, 'none', '1'], ['bob@localhost', 'none', null, '2']]);
});

test('a change decided from a copy that another writer overtook is decided again from storage, and acted on once', async () => {
  const server = testServer();
  const store = new RosterStore(contextFor(server, { name: 'roster', storage: ['roster'] }));
  bindSession(server, 'alice@localhost/a');
  await store.load('alice');
  // Another node writes the roster; this node's copy has not heard of it.
  await server.roster.put('alice', item('bob@localhost', 'to'));
  const seen: (string | null)[] = [];
  let acted = '';
  await store.change('alice', 'bob@localhost', (current) => {
    seen.push(current?.subscription ?? null);
    const next = item('bob@localhost', current?.subscription === 'to' ? 'both' : 'from');
    return { write: next, after: () => { acted += next.subscription; } };
  });
  assert.deepEqual(seen, [null, 'to']);
  assert.equal(acted, 'both');
  assert.equal((await server.roster.get('alice', 'bob@localhost'))?.subscription, 'both');
  assert.equal((await store.get('alice', 'bob@localhost'))?.subscription, 'both', 'the copy here is current again');
  assert.equal((await store.load('alice')).version, '2');
});

test('a removal that finds nothing stored writes nothing and changes no version', async () => {
  const server = testServer();
  const store = new RosterStore(contextFor(server, { name: 'roster', storage: ['roster'] }));
  let acted = 0;
  await store.change('alice', 'bob@localhost', () => ({ write: null, after: () => { acted++; } }));
  assert.equal(acted, 1);
  assert.equal(await server.roster.version('alice'), '0');
});
