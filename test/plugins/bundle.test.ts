// A plugin written in TypeScript with an npm dependency, taken the whole way: bundled by
// scripts/bundle-plugins.ts, packed as `npm run build` packs it (without src/), installed
// into a plugin host, loaded, with 'xmppd' resolved to the kernel's own modules.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundlePlugin } from '../../scripts/bundle-plugins.ts';
import { ClusterSlot } from '../../server/cluster/cluster-slot.ts';
import { setLogLevel } from '../../server/log.ts';
import { isBundledPlugin, packPlugin } from '../../server/plugins/plugin-pack.ts';
import { PluginHost } from '../../server/plugins/plugin-host.ts';
import { SERVER_VERSION } from '../../server/version.ts';
import { Element } from '../../server/xml/element.ts';
import { openTestStorage, type TestStorage } from '../helpers/test-database.ts';
import { dropFile, fakeServer } from './fixtures.ts';

setLogLevel('error');

const FILES: Record<string, string> = {
  'plugin.json': JSON.stringify({ name: 'bundled', version: '1.0.0', main: 'index.js' }),
  // ws is CommonJS requiring Node's own modules (events, http, crypto ...): the bundle must
  // give it a require() even though the bundle is an ES module.
  'src/index.ts': `
import { WebSocketServer } from 'ws';
import { xml, type Plugin } from 'xmppd';
import { greeting } from './greeting.ts';

const plugin: Plugin = {
  load(ctx) {
    const probe = { greeting: greeting(ctx.manifest.name), element: xml('hello'), ws: typeof WebSocketServer };
    (globalThis as unknown as { bundleProbe: unknown }).bundleProbe = probe;
    ctx.feature('urn:test:bundled');
  },
};
export default plugin;
`,
  'src/greeting.ts': 'export const greeting = (name: string): string => `hello from ${name}`;\n',
  'src/assets/notes.txt': 'sources only',
};

let db: TestStorage;
let root: string;
before(async () => {
  db = await openTestStorage('sqlite');
  root = mkdtempSync(join(tmpdir(), 'xmppd-bundle-'));
});
after(async () => {
  await db.close();
  rmSync(root, { recursive: true, force: true });
});

test('a TypeScript plugin with an npm dependency is bundled into one module, packed without src/, and loads with the kernel API', async () => {
  const dir = join(root, 'bundled');
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  assert.equal(isBundledPlugin(dir), true);

  const bundled = await bundlePlugin(dir);
  assert.deepEqual([bundled.name, bundled.file, bundled.written], ['bundled', join(dir, 'index.js'), true]);
  const code = readFileSync(join(dir, 'index.js'), 'utf8');
  assert.match(code, /^\/\/ Generated from src\/ by `npm run build`/);
  assert.match(code, /from "xmppd"/, 'the kernel API stays an import');
  assert.doesNotMatch(code, /from "ws"|require\("ws"\)/, 'the npm dependency is inside');
  assert.equal((await bundlePlugin(dir)).written, false, 'an unchanged bundle is not rewritten');

  const packed = await packPlugin(dir, { serverVersion: SERVER_VERSION });
  assert.deepEqual(packed.files, ['index.js', 'plugin.json']);

  const server = await fakeServer(db.storage);
  const plugins = join(root, 'plugins');
  dropFile(plugins, 'bundled.tgz', packed.archive);
  const host = new PluginHost({ server, cluster: new ClusterSlot('test-node'), pluginsDir: plugins, workDir: join(root, 'work'), log: server.log });
  try {
    await host.start();
    const [status] = host.status();
    assert.equal(status?.state, 'loaded', status?.reason ?? '');
    const probe = (globalThis as unknown as { bundleProbe: { greeting: string; element: unknown; ws: string } }).bundleProbe;
    assert.equal(probe.greeting, 'hello from bundled');
    assert.equal(probe.ws, 'function');
    assert.ok(probe.element instanceof Element, "'xmppd' is the server's own modules");
  } finally {
    await host.stop();
  }
});

test('a folder with its own package.json is not bundled: it builds itself and ships its sources as it chooses', async () => {
  const dir = join(root, 'self-built');
  mkdirSync(join(dir, 'src', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ name: 'self-built', version: '1.0.0', main: 'dist/index.js' }));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'src', 'index.ts'), 'export default {};');
  writeFileSync(join(dir, 'src', 'assets', 'notes.txt'), 'shipped');
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist', 'index.js'), 'export default { load() {} };');
  assert.equal(isBundledPlugin(dir), false);
  const packed = await packPlugin(dir, { serverVersion: SERVER_VERSION });
  assert.deepEqual(packed.files, ['dist/index.js', 'package.json', 'plugin.json', 'src/assets/notes.txt']);
});
