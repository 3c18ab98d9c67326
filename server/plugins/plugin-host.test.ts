// The plugin host in-process, on a real SQLite database: what the folder holds is what runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestStorage, type TestStorage } from '../../test/helpers/test-database.ts';
import { fakeServer, pluginArchive, writePluginFolder, type FakePlugin } from '../../test/plugins/fixtures.ts';
import { ClusterSlot } from '../cluster/cluster-slot.ts';
import { setLogLevel } from '../log.ts';
import type { ServerContext } from '../server-context.ts';
import { PluginHost } from './plugin-host.ts';

setLogLevel('error');

/** What test plugins report through, since they run as separate modules. */
interface Probe {
  loads: string[];
  seen: string[];
}
const probe = (): Probe => (globalThis as unknown as { pluginProbe: Probe }).pluginProbe;

let db: TestStorage;
before(async () => {
  db = await openTestStorage('sqlite');
});
after(async () => {
  await db.close();
});

interface Setup {
  host: PluginHost;
  server: ServerContext;
  dir: string;
  workDir: string;
  /** Puts an archive in place the way an installer should: written aside, then renamed. */
  drop(file: string, archive: Buffer): void;
  fire(event: string): string[];
  done(): Promise<void>;
}

async function setup(loadTimeoutMs?: number): Promise<Setup> {
  (globalThis as unknown as { pluginProbe: Probe }).pluginProbe = { loads: [], seen: [] };
  const root = mkdtempSync(join(tmpdir(), 'xmppd-host-'));
  const dir = join(root, 'plugins');
  const workDir = join(root, 'work');
  mkdirSync(dir);
  const server = await fakeServer(db.storage);
  const host = new PluginHost({ server, cluster: new ClusterSlot('test-node'), pluginsDir: dir, workDir, log: server.log, loadTimeoutMs });
  return {
    host,
    server,
    dir,
    workDir,
    drop(file, archive) {
      writeFileSync(join(dir, `.${file}.partial`), archive);
      renameSync(join(dir, `.${file}.partial`), join(dir, file));
    },
    fire(event) {
      const seen: string[] = [];
      server.events.fire(event, { seen });
      return seen;
    },
    async done() {
      await host.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A plugin that records its loads, answers `test/<name>` with its version and adds a feature. */
function recorder(name: string, version = '1.0.0', { load, ...extra }: Partial<FakePlugin> = {}): FakePlugin {
  return {
    name,
    version,
    load: `globalThis.pluginProbe.loads.push('${name} ${version}');
      ctx.feature('urn:test:${name}');
      ctx.hook('test/${name}', (p) => { p.seen.push('${name} ${version}'); return true; });
      ${load ?? ''}`,
    ...extra,
  };
}

test('archives and folders in the folder are loaded; status says so, on disk too', async () => {
  const s = await setup();
  try {
    s.drop('alpha.tgz', pluginArchive(recorder('alpha', '1.0.0', {
      // The kernel API resolves as 'xmppd' from a staged plugin, to the server's own classes.
      prelude: "import { xml, StanzaError } from 'xmppd';",
      load: "globalThis.pluginProbe.seen.push(String(xml('x', { a: '1' })), String(new StanzaError('bad-request').condition));",
    })));
    writePluginFolder(s.dir, recorder('beta'), 'beta-folder');
    await s.host.start();
    assert.deepEqual(probe().loads.sort(), ['alpha 1.0.0', 'beta 1.0.0']);
    assert.deepEqual(probe().seen, ['<x a="1"/>', 'bad-request']);
    assert.deepEqual(s.server.disco.features('host'), ['urn:test:alpha', 'urn:test:beta']);
    assert.deepEqual(s.host.status().map((p) => [p.file, p.name, p.version, p.state, p.reason]), [
      ['alpha.tgz', 'alpha', '1.0.0', 'loaded', null],
      ['beta-folder', 'beta', '1.0.0', 'loaded', null],
    ]);
    const onDisk = JSON.parse(readFileSync(join(s.workDir, 'status.json'), 'utf8'));
    assert.equal(onDisk.pid, process.pid);
    assert.deepEqual(onDisk.plugins.map((p: { name: string }) => p.name), ['alpha', 'beta']);
  } finally {
    await s.done();
  }
  assert.deepEqual(s.server.disco.features('host'), [], 'stop() unloads everything');
});

test('a newer archive replaces the loaded version; removing it unloads it and cleans up', async () => {
  const s = await setup();
  try {
    s.drop('alpha.tgz', pluginArchive(recorder('alpha', '1.0.0')));
    await s.host.start();
    assert.deepEqual(s.fire('test/alpha'), ['alpha 1.0.0']);

    s.drop('alpha.tgz', pluginArchive(recorder('alpha', '2.0.0')));
    await s.host.scan();
    assert.deepEqual(s.fire('test/alpha'), ['alpha 2.0.0'], 'only the new handler remains');
    assert.deepEqual(s.server.disco.features('host'), ['urn:test:alpha']);
    assert.equal(s.host.status()[0]!.version, '2.0.0');
    assert.equal(readdirSync(s.workDir).filter((d) => d.startsWith('alpha-')).length, 1, 'the old staged copy is gone');

    unlinkSync(join(s.dir, 'alpha.tgz'));
    await s.host.scan();
    assert.deepEqual(s.fire('test/alpha'), []);
    assert.deepEqual(s.server.disco.features('host'), []);
    assert.deepEqual(s.host.status(), []);
    assert.equal(readdirSync(s.workDir).filter((d) => d.startsWith('alpha-')).length, 0);
  } finally {
    await s.done();
  }
});

test('a plugin knows whether it loads with the server or is installed or upgraded while it runs', async () => {
  const s = await setup();
  const says = (version: string): FakePlugin => recorder('alpha', version, { load: 'globalThis.pluginProbe.seen.push(String(ctx.loadedAtServerStart));' });
  try {
    s.drop('alpha.tgz', pluginArchive(says('1.0.0')));
    await s.host.start();
    s.drop('alpha.tgz', pluginArchive(says('2.0.0')));
    await s.host.scan();
    assert.deepEqual(probe().seen, ['true', 'false']);
  } finally {
    await s.done();
  }
});

test('a failing load() is undone and reported, other plugins are unaffected, and it is not retried until changed', async () => {
  const s = await setup();
  try {
    s.drop('good.tgz', pluginArchive(recorder('good')));
    s.drop('bad.tgz', pluginArchive(recorder('bad', '1.0.0', { load: "throw new Error('cannot reach the frobnicator');" })));
    await s.host.start();
    const bad = s.host.status().find((p) => p.name === 'bad')!;
    assert.equal(bad.state, 'failed');
    assert.equal(bad.reason, 'cannot reach the frobnicator');
    assert.deepEqual(s.server.disco.features('host'), ['urn:test:good'], "bad's feature was removed again");
    assert.deepEqual(s.fire('test/bad'), []);

    await s.host.scan();
    assert.equal(probe().loads.filter((l) => l.startsWith('bad')).length, 1, 'not retried while unchanged');
    s.drop('bad.tgz', pluginArchive(recorder('bad', '1.0.1')));
    await s.host.scan();
    assert.equal(s.host.status().find((p) => p.name === 'bad')!.state, 'loaded');
    assert.deepEqual(s.fire('test/good'), ['good 1.0.0']);
  } finally {
    await s.done();
  }
});

test('entry modules that do not import or do not export a plugin are reported as such', async () => {
  const s = await setup();
  try {
    s.drop('syntax.tgz', pluginArchive({ name: 'syntax', files: { 'index.js': 'export default {' } }));
    s.drop('shape.tgz', pluginArchive({ name: 'shape', files: { 'index.js': 'export const load = () => {};' } }));
    await s.host.start();
    const byName = new Map(s.host.status().map((p) => [p.name, p]));
    assert.match(byName.get('syntax')!.reason!, /^cannot import index\.js: SyntaxError/);
    assert.equal(byName.get('shape')!.reason, 'index.js must export default { load(ctx) { ... } }');
  } finally {
    await s.done();
  }
});

test('a load() that never finishes times out and whatever it registers late is undone', async () => {
  const s = await setup(300);
  try {
    s.drop('slow.tgz', pluginArchive({
      name: 'slow',
      load: "await new Promise((r) => setTimeout(r, 600)); ctx.feature('urn:test:late');",
    }));
    await s.host.start();
    assert.equal(s.host.status()[0]!.reason, 'load() did not finish within 0.3 s');
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(s.server.disco.features('host'), []);
  } finally {
    await s.done();
  }
});

test('a throwing hook is logged and skipped: lower-priority handlers still run', async () => {
  const s = await setup();
  try {
    s.drop('noisy.tgz', pluginArchive({
      name: 'noisy',
      load: `ctx.hook('test/event', () => { throw new Error('oops'); }, 10);
        ctx.hook('test/event', async () => { throw new Error('async oops'); }, 5);`,
    }));
    await s.host.start();
    s.server.events.on<{ seen: string[] }>('test/event', (p) => {
      p.seen.push('kernel');
      return true;
    });
    assert.deepEqual(s.fire('test/event'), ['kernel']);
  } finally {
    await s.done();
  }
});

test('dependencies load first, get the API of what they depend on, and are reloaded when it is upgraded', async () => {
  const s = await setup();
  try {
    const base = (version: string): FakePlugin => recorder('base', version, { load: `return { version: '${version}' };` });
    s.drop('user.tgz', pluginArchive(recorder('user', '1.0.0', {
      dependencies: { base: '>=1.0.0' },
      load: "globalThis.pluginProbe.seen.push('user sees base ' + ctx.dependency('base').version);",
    })));
    s.drop('base.tgz', pluginArchive(base('1.0.0')));
    await s.host.start();
    assert.deepEqual(probe().loads, ['base 1.0.0', 'user 1.0.0']);

    s.drop('base.tgz', pluginArchive(base('1.1.0')));
    await s.host.scan();
    assert.deepEqual(probe().loads, ['base 1.0.0', 'user 1.0.0', 'base 1.1.0', 'user 1.0.0']);
    assert.deepEqual(probe().seen, ['user sees base 1.0.0', 'user sees base 1.1.0']);

    unlinkSync(join(s.dir, 'base.tgz'));
    await s.host.scan();
    const user = s.host.status().find((p) => p.name === 'user')!;
    assert.equal(user.state, 'failed');
    assert.equal(user.reason, 'needs plugin base >=1.0.0, which is not installed');
    assert.deepEqual(s.fire('test/user'), []);

    s.drop('base.tgz', pluginArchive(base('1.2.0')));
    await s.host.scan();
    assert.equal(s.host.status().find((p) => p.name === 'user')!.state, 'loaded', 'loaded again once its dependency is back');
  } finally {
    await s.done();
  }
});

test('a second cluster plugin is refused while the first stays loaded', async () => {
  const s = await setup();
  try {
    s.drop('hazel.tgz', pluginArchive(recorder('hazel', '1.0.0', { kind: 'cluster' })));
    await s.host.start();
    s.drop('another.tgz', pluginArchive(recorder('another', '1.0.0', { kind: 'cluster' })));
    await s.host.scan();
    const another = s.host.status().find((p) => p.name === 'another')!;
    assert.equal(another.state, 'failed');
    assert.equal(another.reason, 'refused: at most one plugin of kind "cluster" may be loaded, and hazel (hazel.tgz) is that plugin');
    assert.deepEqual(s.fire('test/hazel'), ['hazel 1.0.0']);
    assert.deepEqual(s.fire('test/another'), []);
  } finally {
    await s.done();
  }
});

test('declared properties exist while the plugin is loaded; its migrations run first', async () => {
  const s = await setup();
  try {
    s.drop('store.tgz', pluginArchive({
      name: 'store',
      manifest: {
        migrations: 'migrations',
        properties: [{ name: 'store.limit', type: 'integer', default: 5, min: 1, max: 9, description: 'A limit', live: true }],
      },
      load: "globalThis.pluginProbe.seen.push('limit ' + ctx.property('store.limit').value);",
      files: {
        'migrations/0001-store.js': "export async function up(knex) { await knex.schema.createTable('store_items', (t) => { t.string('id'); }); }",
      },
    }));
    await db.storage.properties.set('store.limit', '7');
    await s.server.properties.load();
    await s.host.start();
    assert.deepEqual(probe().seen, ['limit 7']);
    assert.equal(await db.storage.knex.schema.hasTable('store_items'), true);
    await assert.rejects(s.server.properties.set('store.limit', '10'), /10 is above the maximum 9/);

    unlinkSync(join(s.dir, 'store.tgz'));
    await s.host.scan();
    assert.equal(s.server.properties.get('store.limit')?.definition, null, 'undefined again; the stored value stays');
  } finally {
    await s.done();
  }
});

test('refused sources are listed with their reason; a missing plugins folder is created', async () => {
  const s = await setup();
  try {
    rmSync(s.dir, { recursive: true });
    await s.host.start();
    assert.ok(existsSync(s.dir));
    s.drop('junk.tgz', Buffer.from('junk'));
    s.drop('future.tgz', pluginArchive({ name: 'future', manifest: { minServerVersion: '99.0.0' } }));
    writeFileSync(join(s.dir, 'README.txt'), 'not a plugin');
    await s.host.scan();
    assert.deepEqual(s.host.status().map((p) => [p.name, p.state, p.reason]), [
      ['future', 'failed', `needs server version 99.0.0 or later; this server is ${s.server.version}`],
      ['junk', 'failed', 'not a gzip-compressed tar archive (.tgz): incorrect header check'],
    ]);
  } finally {
    await s.done();
  }
});
