// The console's static files on the admin app (inject()): public, typed, cached by whether
// their names carry a hash, under a strict CSP; a 503 saying what to run when the console was
// never built; nothing outside the console's folder reachable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openTestStorage, type TestStorage } from '../../../test/helpers/test-database.ts';
import { fakeServer } from '../../../test/plugins/fixtures.ts';
import { ClusterSlot } from '../../cluster/cluster-slot.ts';
import { setLogLevel } from '../../log.ts';
import type { ServerContext } from '../../server-context.ts';
import { PluginHost } from '../../plugins/plugin-host.ts';
import { createAdminApp } from './admin-server.ts';
import { CONSOLE_CSP, CONSOLE_NOT_BUILT } from './console-assets.ts';

setLogLevel('error');

let db: TestStorage;
let server: ServerContext;
let host: PluginHost;
let root: string;
const apps: FastifyInstance[] = [];

before(async () => {
  db = await openTestStorage('sqlite');
  root = mkdtempSync(join(tmpdir(), 'xmppd-console-'));
  mkdirSync(join(root, 'plugins'));
  server = await fakeServer(db.storage);
  host = new PluginHost({ server, cluster: new ClusterSlot('test-node'), pluginsDir: join(root, 'plugins'), workDir: join(root, 'work'), log: server.log });
  await host.start();
});

after(async () => {
  for (const app of apps) await app.close();
  await host.stop();
  await db.close();
  rmSync(root, { recursive: true, force: true });
});

async function appServing(consoleDir: string): Promise<FastifyInstance> {
  const app = await createAdminApp({ context: server, plugins: host, log: server.log, consoleDir });
  apps.push(app);
  return app;
}

test('a console never built answers 503 with what to run, and the API goes on', async () => {
  const app = await appServing(join(root, 'not-built'));
  const page = await app.inject({ url: '/' });
  assert.equal(page.statusCode, 503);
  assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(page.body, CONSOLE_NOT_BUILT);
  assert.match(page.body, /npm run build/);
  assert.equal((await app.inject({ url: '/console/console-ABCDEFGH.js' })).statusCode, 404);
  const api = await app.inject({ url: '/api/plugins' });
  assert.equal(api.statusCode, 401);
  assert.equal(api.headers['cache-control'], 'no-store');
});

test('the built console: index.html and its files, typed, cached by name, under the CSP', async () => {
  const dir = join(root, 'console');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/console/console-ABCDEFGH.js"></script>');
  writeFileSync(join(dir, 'console-ABCDEFGH.js'), 'export {};');
  writeFileSync(join(dir, 'console-IJKLMNOP.css'), 'body {}');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, '.hidden.js'), 'secret');
  writeFileSync(join(dir, 'notes.txt'), 'no type for this');
  writeFileSync(join(root, 'outside.js'), 'outside');
  const app = await appServing(dir);

  const page = await app.inject({ url: '/' });
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['content-security-policy'], CONSOLE_CSP);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.match(page.body, /console-ABCDEFGH\.js/);
  assert.equal((await app.inject({ method: 'HEAD', url: '/' })).statusCode, 200);

  const cases: [string, string, string][] = [
    ['/console/console-ABCDEFGH.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/console/console-IJKLMNOP.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/console/favicon.svg', 'image/svg+xml', 'no-cache'],
  ];
  for (const [url, type, cache] of cases) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.headers['content-type'], type, url);
    assert.equal(res.headers['cache-control'], cache, url);
    assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, url);
  }

  for (const url of ['/console/.hidden.js', '/console/notes.txt', '/console/..%2Foutside.js', '/console/%2E%2E%2Foutside.js', '/console/missing-ABCDEFGH.js', '/console/']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.json().code, 'NOT_FOUND', url);
  }
});
