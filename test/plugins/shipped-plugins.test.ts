// The plugins the project ships, loaded from their own folders by the real plugin host and
// removed again: everything each registered is gone afterwards (hooks, IQ handlers, disco
// features, stream features, properties, HTTP routes, console pages, health checks, timers).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterSlot } from '../../server/cluster/cluster-slot.ts';
import { PROJECT_ROOT as INSTALL_ROOT } from '../../server/config/load-config.ts';
import { setLogLevel } from '../../server/log.ts';
import { PluginHost } from '../../server/plugins/plugin-host.ts';
import type { ServerContext } from '../../server/server-context.ts';
import { openTestStorage, type TestStorage } from '../helpers/test-database.ts';
import { fakeServer } from './fixtures.ts';

setLogLevel('error');

let db: TestStorage;
before(async () => {
  db = await openTestStorage('sqlite');
});
after(async () => {
  await db.close();
});

function footprint(server: ServerContext, host: PluginHost): Record<string, number> {
  return {
    handlers: server.events.size,
    hostFeatures: server.disco.features('host').length,
    accountFeatures: server.disco.features('account').length,
    streamFeatures: server.streamFeatures.size,
    definedProperties: server.properties.list().filter((p) => p.definition !== null).length,
    adminRoutes: host.adminRoutes.size,
    publicRoutes: host.publicRoutes.size,
    adminPages: host.adminPages.list().length,
    healthChecks: server.health.status.dependencies.length,
    timers: process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
  };
}

for (const name of ['example', 'hazelcast']) {
  test(`the ${name} plugin loads from its folder and unloads without a trace`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'xmppd-shipped-'));
    const dir = join(root, 'plugins');
    mkdirSync(dir);
    const server = await fakeServer(db.storage);
    const host = new PluginHost({ server, cluster: new ClusterSlot('test-node'), pluginsDir: dir, workDir: join(root, 'work'), log: server.log });
    try {
      await host.start();
      const empty = footprint(server, host);
      cpSync(join(INSTALL_ROOT, 'plugins', name), join(dir, name), { recursive: true, filter: (src) => !src.includes(`${name}/src`) });
      await host.scan();
      assert.deepEqual(host.status().map((p) => [p.name, p.state, p.reason]), [[name, 'loaded', null]]);
      const loaded = footprint(server, host);
      assert.notDeepEqual(loaded, empty, `${name} registered something`);
      rmSync(join(dir, name), { recursive: true });
      await host.scan();
      assert.deepEqual(host.status(), []);
      assert.deepEqual(footprint(server, host), empty);
    } finally {
      await host.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
}
