// The group chat load against a real server process over real sockets, small: that it
// measures what it says (every occupant had the history and every message), and that it
// fails, saying so, when the room turns joiners away.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server-process.ts';
import { writeBenchAccounts } from '../lib/accounts.ts';
import { runGroupChat, type GroupChatParams } from './group-chat.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.c2s.max-connections-per-ip': '0', 'xmpp.c2s.shaper.rate': '0', 'xmpp.muc.max-occupants': '25' } });
  await writeBenchAccounts(await server.storage(), 41);
});

after(async () => {
  await server?.stop();
});

const params = (room: string, occupants: number): GroupChatParams => ({
  host: '127.0.0.1', port: server.c2sPort, domain: 'localhost', mechanism: 'SCRAM-SHA-256', service: 'conference.localhost',
  room, occupants, history: 20, joinConcurrency: 8, loads: [{ senders: 3, window: 2 }, { senders: 1, window: 1 }],
  warmupSeconds: 0.3, seconds: 1, serverPids: [server.pid!],
});

test('occupants join a room with history and each gets every message of every sender', async () => {
  const r = await runGroupChat(params('bench', 20));
  assert.equal(r.joins.joins, 20);
  assert.equal(r.joins.latency.count, 20);
  assert.ok(r.joins.perSecond > 0);
  assert.deepEqual(r.loads.map((l) => [l.senders, l.window, l.recipients]), [[3, 2, 21], [1, 1, 21]]);
  for (const l of r.loads) {
    assert.ok(l.roomMessages > 0, `${l.senders} × ${l.window}: no message went round`);
    // Deliveries are counted in the measured second, each timed: a done message is 21 of them.
    assert.equal(l.latency.count, l.deliveries);
    assert.ok(l.deliveries >= l.roomMessages, `${l.deliveries} deliveries for ${l.roomMessages} messages`);
  }
});

test('a room that turns joiners away fails the run, saying how many and why', async () => {
  // 25 occupants at most, the owner one of them: 16 of 40 joiners are refused.
  await assert.rejects(runGroupChat(params('full', 40)), (err: Error) => {
    assert.match(err.message, /^16 of 40 joins failed \(16 through 127\.0\.0\.1:\d+\); first: u\d+: join refused: .*service-unavailable/);
    return true;
  });
});
