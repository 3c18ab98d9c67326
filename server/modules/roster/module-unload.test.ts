// Unloading the roster and presence modules leaves nothing behind in the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModuleContext } from '../../extension/module-context.ts';
import { presenceModule } from '../presence/index.ts';
import { rosterModule } from './index.ts';
import { testServer } from './test-server.ts';

const EVENTS = [
  'iq/bare/get/jabber:iq:roster', 'iq/bare/set/jabber:iq:roster', 'roster/changed', 'roster/invalidate',
  'stanza/pre-route', 'presence/bare', 'presence/full', 'presence/broadcast', 'session/closed',
];

test('both modules register through their contexts and unload without a trace, in either order', async () => {
  for (const order of [['roster', 'presence'], ['presence', 'roster']]) {
    const server = testServer();
    const roster = new ModuleContext('roster', server);
    const presence = new ModuleContext('presence', server);
    await rosterModule.load(roster);
    await presenceModule.load(presence);
    for (const name of EVENTS) assert.ok(server.events.has(name), `${name} is hooked`);
    assert.equal(server.streamFeatures.size, 1);
    assert.ok(server.properties.get('xmpp.roster.max-items')?.definition);
    for (const name of order) (name === 'roster' ? roster : presence).unload();
    for (const name of EVENTS) assert.equal(server.events.has(name), false, `${name} is unhooked`);
    assert.equal(server.streamFeatures.size, 0);
    assert.equal(server.properties.get('xmpp.roster.max-items'), undefined);
  }
});
