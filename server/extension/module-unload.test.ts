// Every built-in module registers only through its context, and unloading it leaves nothing
// behind: no hook, IQ handler, disco feature or identity, stream feature, property, timer,
// account deletion handler or metric.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_MODULES } from '../modules/builtin.ts';
import { testServer } from '../modules/roster/test-server.ts';
import { moduleServicesOf } from '../module-services.ts';
import type { ServerContext } from '../server-context.ts';
import { ModuleLoader } from './module-loader.ts';

interface Footprint {
  handlers: number;
  hostFeatures: number;
  accountFeatures: number;
  identities: number;
  streamFeatures: number;
  properties: number;
  timers: number;
  accountHandlers: number;
  metrics: number;
}

function footprint(server: ServerContext): Footprint {
  return {
    handlers: server.events.size,
    hostFeatures: server.disco.features('host').length,
    accountFeatures: server.disco.features('account').length,
    identities: server.disco.hostIdentities().length + server.disco.accountIdentities().length,
    streamFeatures: server.streamFeatures.size,
    properties: server.properties.list().length,
    timers: process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
    accountHandlers: server.accounts.size,
    metrics: server.moduleMetrics.size,
  };
}

test('each built-in module, loaded with what it depends on, unloads without a trace', async () => {
  for (const mod of BUILTIN_MODULES) {
    const server = testServer();
    const loader = new ModuleLoader(moduleServicesOf(server));
    // What it depends on, and what those depend on, in load order.
    const wanted = new Set(mod.depends ?? []);
    for (const m of [...BUILTIN_MODULES].reverse()) if (wanted.has(m.name)) for (const d of m.depends ?? []) wanted.add(d);
    const needed = BUILTIN_MODULES.filter((m) => wanted.has(m.name));
    for (const dep of needed) await loader.load(dep);
    const before = footprint(server);
    await loader.load(mod);
    const loaded = footprint(server);
    assert.ok(loaded.handlers > before.handlers || loaded.hostFeatures > before.hostFeatures || loaded.streamFeatures > before.streamFeatures,
      `${mod.name} registered something`);
    await loader.unload(mod.name);
    assert.deepEqual(footprint(server), before, `${mod.name} left something behind`);
    await loader.unloadAll();
  }
});

test('all built-in modules together unload to an empty server, and a module is not unloaded under its dependants', async () => {
  const server = testServer();
  const empty = footprint(server);
  const loader = new ModuleLoader(moduleServicesOf(server));
  for (const mod of BUILTIN_MODULES) await loader.load(mod);
  assert.ok(server.events.has('iq/bare/get/jabber:iq:roster'));
  assert.ok(server.properties.get('xmpp.offline.max-per-user')?.definition, 'module properties are defined by their modules');
  // The roster module cancels a deleted account's subscriptions, the PEP module drops its nodes,
  // the archive module deletes the account's archive, group chat its affiliations.
  assert.equal(server.accounts.size, 4, 'the roster, PEP, archive and group chat modules act on account deletion');
  await assert.rejects(loader.unload('roster'), /presence depends on it/);
  await loader.unloadAll();
  assert.deepEqual(footprint(server), empty);
});

test('a module that depends on one not loaded, or uses what it did not declare, is refused with the reason', async () => {
  const server = testServer();
  const loader = new ModuleLoader(moduleServicesOf(server));
  const presence = BUILTIN_MODULES.find((m) => m.name === 'presence')!;
  await assert.rejects(loader.load(presence), /presence depends on roster, which must be loaded before it/);
  await assert.rejects(loader.load({ name: 'sneaky', load: (ctx) => ctx.repository('users') }), /without declaring it/);
  await assert.rejects(loader.load({ name: 'sneaky2', load: (ctx) => ctx.dependency('roster') }), /without declaring it/);
  assert.equal(footprint(server).handlers, 0);
});
