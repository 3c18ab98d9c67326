import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../events/event-bus.ts';
import { JID } from '../jid/jid.ts';
import { Logger } from '../log.ts';
import { LocalRoutingTable } from '../routing/routing-table.ts';
import { ServerStats } from '../stats.ts';
import type { Transport } from '../transport/transport.ts';
import { ClientSession } from './client-session.ts';
import { ROUTING_TABLE_ERROR, SessionManager, type RoutingTableErrorEvent } from './session-manager.ts';

function manager(): SessionManager {
  return new SessionManager('node1', new LocalRoutingTable(), new EventBus(), new Logger('test'));
}

function session(full: string): ClientSession {
  const transport = { kind: 'tcp', secure: false, remoteAddress: '127.0.0.1', send() {}, close() {} } as unknown as Transport;
  return new ClientSession('s', JID.parse(full), transport, new ServerStats());
}

test('admits new resources up to the limit, per account', () => {
  const sessions = manager();
  sessions.bind(session('alice@localhost/a'));
  assert.equal(sessions.admits(JID.parse('alice@localhost/b'), 2), true);
  sessions.bind(session('alice@localhost/b'));
  assert.equal(sessions.admits(JID.parse('alice@localhost/c'), 2), false);
  assert.equal(sessions.admits(JID.parse('bob@localhost/c'), 2), true, 'other accounts have their own count');
});

test('a bind replacing a bound full JID is admitted even at the limit, and does not add a session', () => {
  const sessions = manager();
  sessions.bind(session('alice@localhost/a'));
  sessions.bind(session('alice@localhost/b'));
  assert.equal(sessions.admits(JID.parse('alice@localhost/b'), 2), true);
  sessions.bind(session('alice@localhost/b'));
  assert.equal([...sessions.ofUser('alice@localhost')].length, 2);
  assert.equal(sessions.admits(JID.parse('alice@localhost/c'), 2), false);
});

test('an ended session frees its place', () => {
  const sessions = manager();
  const a = session('alice@localhost/a');
  sessions.bind(a);
  assert.equal(sessions.admits(JID.parse('alice@localhost/b'), 1), false);
  sessions.unbind(a, 'closed by client');
  assert.equal(sessions.admits(JID.parse('alice@localhost/b'), 1), true);
});

test('0 is no limit; a limit lowered below the current count admits no new resource', () => {
  const sessions = manager();
  for (const r of ['a', 'b', 'c']) sessions.bind(session(`alice@localhost/${r}`));
  assert.equal(sessions.admits(JID.parse('alice@localhost/d'), 0), true);
  assert.equal(sessions.admits(JID.parse('alice@localhost/d'), 1), false);
  assert.equal(sessions.admits(JID.parse('alice@localhost/a'), 1), true, 'replacing is still allowed');
});

test('a routing table that refuses writes does not break binding, presence or unbinding; each refusal is announced', async () => {
  const refusing = new (class extends LocalRoutingTable {
    override addRoute(): Promise<void> { return Promise.reject(new Error('cluster unreachable')); }
    override updateRoute(): void { throw new Error('cluster unreachable'); }
    override removeRoute(): Promise<void> { return Promise.reject(new Error('cluster unreachable')); }
  })();
  const events = new EventBus();
  const seen: RoutingTableErrorEvent[] = [];
  events.on<RoutingTableErrorEvent>(ROUTING_TABLE_ERROR, (e) => { seen.push(e); });
  const sessions = new SessionManager('node1', refusing, events, new Logger('test'));
  const s = session('alice@localhost/a');
  sessions.bind(s);
  sessions.presenceChanged(s);
  sessions.unbind(s, 'closed by client');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen.map((e) => e.operation).sort(), ['add', 'remove', 'update']);
  assert.ok(seen.every((e) => e.jid === 'alice@localhost/a'));
  assert.equal(sessions.size, 0);
});
