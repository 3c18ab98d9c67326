import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../storage/types.ts';
import { rosterModule } from './index.ts';
import { ROSTER_CHANGED_REMOTE, type RosterChangedEvent } from './roster-events.ts';
import { newItem } from './roster-item.ts';
import { bindSession, contextFor, testServer } from './test-server.ts';

const item = (jid: string, subscription: RosterItem['subscription']): RosterItem => ({ ...newItem(jid, true), subscription });

test("another node's change that arrives after a later one is pushed as the item is now", async () => {
  const server = testServer();
  rosterModule.load(contextFor(server, { name: 'roster', storage: ['roster', 'users'] }));
  const alice = bindSession(server, 'alice@localhost/a');
  alice.interested = true;
  // Storage is past the change the event tells of: version 1 made the item `to`, 2 `both`.
  await server.roster.put('alice', item('bob@localhost', 'to'));
  await server.roster.put('alice', item('bob@localhost', 'both'));
  server.events.fire<RosterChangedEvent>(ROSTER_CHANGED_REMOTE, {
    username: 'alice', jid: 'bob@localhost', previous: null, item: item('bob@localhost', 'to'), version: '1',
  });
  await new Promise((r) => setTimeout(r, 20));
  const pushes = alice.sent.filter((el) => el.name === 'iq' && el.attrs.type === 'set');
  assert.equal(pushes.length, 1);
  const query = pushes[0]!.getChild('query', 'jabber:iq:roster')!;
  assert.equal(query.attrs.ver, '2');
  assert.equal(query.getChild('item')!.attrs.subscription, 'both');
});
