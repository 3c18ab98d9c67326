// The admin API through fastify's inject(), with a real plugin host and a SQLite database.
import { OFFLINE_PROPERTIES } from '../../modules/offline.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openTestStorage, type TestStorage } from '../../../test/helpers/test-database.ts';
import { exampleArchive, fakeServer, pluginArchive } from '../../../test/plugins/fixtures.ts';
import { deriveUserKeys } from '../../auth/scram-keys.ts';
import { ClusterSlot } from '../../cluster/cluster-slot.ts';
import { setLogLevel } from '../../log.ts';
import type { ServerContext } from '../../server-context.ts';
import { PluginHost } from '../../plugins/plugin-host.ts';
import { createAdminApp } from './admin-server.ts';

setLogLevel('error');

let db: TestStorage;
let server: ServerContext;
let host: PluginHost;
let app: FastifyInstance;
let root: string;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = { authorization: basic('boss@localhost', 'boss-pw') };

before(async () => {
  db = await openTestStorage('sqlite');
  await db.storage.users.create('boss', await deriveUserKeys('boss-pw', 4096));
  await db.storage.users.create('carol', await deriveUserKeys('carol-pw', 4096));
  server = await fakeServer(db.storage);
  await server.properties.set('admin.jids', 'boss@localhost, not a jid');
  await server.properties.set('xmpp.auth.failure-delay', '0');
  root = mkdtempSync(join(tmpdir(), 'xmppd-admin-'));
  mkdirSync(join(root, 'plugins'));
  host = new PluginHost({ server, cluster: new ClusterSlot('test-node'), pluginsDir: join(root, 'plugins'), workDir: join(root, 'work'), log: server.log });
  await host.start();
  app = await createAdminApp({ context: server, plugins: host, log: server.log });
});

after(async () => {
  await app.close();
  await host.stop();
  await db.close();
  rmSync(root, { recursive: true, force: true });
});

function assertError(res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json();
  assert.equal(body.code, code);
  assert.equal(body.statusCode, status);
  assert.equal(typeof body.error, 'string');
  if (message) assert.match(body.message, message);
}

test('every route but login needs an administrator', async () => {
  assertError(await app.inject({ url: '/api/properties' }), 401, 'AUTH_REQUIRED');
  const noChallenge = await app.inject({ url: '/api/plugins' });
  assert.equal(noChallenge.headers['www-authenticate'], undefined, 'no Basic challenge: browsers must not cache credentials');
  assertError(await app.inject({ url: '/api/properties', headers: { authorization: 'Bearer x' } }), 401, 'AUTH_REQUIRED', /HTTP Basic/);
  assertError(await app.inject({ url: '/api/properties', headers: { authorization: basic('boss', 'wrong') } }), 401, 'AUTH_FAILED');
  assertError(await app.inject({ url: '/api/properties', headers: { authorization: basic('nobody', 'x') } }), 401, 'AUTH_FAILED');
  assertError(await app.inject({ url: '/api/properties', headers: { authorization: basic('carol', 'carol-pw') } }), 403, 'NOT_ADMIN', /admin\.jids/);
  const ok = await app.inject({ url: '/api/session', headers: { authorization: basic('boss', 'boss-pw') } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { jid: 'boss@localhost', method: 'basic', csrfToken: null });
  assert.equal(ok.headers['cache-control'], 'no-store');
  assertError(await app.inject({ url: '/api/nothing-here', headers: ADMIN }), 404, 'NOT_FOUND');
});

test('a console session: cookie, CSRF token on changes, logout, and revocation through admin.jids', async () => {
  assertError(await app.inject({ method: 'POST', url: '/api/session', payload: { jid: 'boss', password: 'nope' } }), 401, 'AUTH_FAILED');
  assertError(await app.inject({ method: 'POST', url: '/api/session', payload: { jid: 'boss' } }), 400, 'VALIDATION_FAILED', /password/);
  const login = await app.inject({ method: 'POST', url: '/api/session', payload: { jid: 'boss', password: 'boss-pw' } });
  assert.equal(login.statusCode, 200, login.body);
  const cookie = String(login.headers['set-cookie']);
  assert.match(cookie, /^xmppd_admin=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  const { csrfToken } = login.json();
  assert.match(csrfToken, /^[\w-]{43}$/);
  const session = { cookie: cookie.split(';')[0]! };

  assert.deepEqual((await app.inject({ url: '/api/session', headers: session })).json(), { jid: 'boss@localhost', method: 'session', csrfToken });
  const put = { method: 'PUT' as const, url: '/api/properties/xmpp.offline.max-per-user', payload: { value: 42 } };
  assertError(await app.inject({ ...put, headers: session }), 403, 'CSRF_TOKEN_INVALID');
  assertError(await app.inject({ ...put, headers: { ...session, 'x-csrf-token': 'x'.repeat(43) } }), 403, 'CSRF_TOKEN_INVALID');
  assert.equal((await app.inject({ ...put, headers: { ...session, 'x-csrf-token': csrfToken } })).statusCode, 200);
  assert.equal(server.properties.get('xmpp.offline.max-per-user')?.value, 42);

  const logout = await app.inject({ method: 'DELETE', url: '/api/session', headers: { ...session, 'x-csrf-token': csrfToken } });
  assert.equal(logout.statusCode, 204);
  assert.match(String(logout.headers['set-cookie']), /^xmppd_admin=; .*Max-Age=0/);
  assertError(await app.inject({ url: '/api/session', headers: session }), 401, 'AUTH_REQUIRED');

  const again = await app.inject({ method: 'POST', url: '/api/session', payload: { jid: 'boss@localhost', password: 'boss-pw' } });
  const second = { cookie: String(again.headers['set-cookie']).split(';')[0]! };
  await server.properties.set('admin.jids', 'someone-else@localhost');
  try {
    assertError(await app.inject({ url: '/api/session', headers: second }), 403, 'NOT_ADMIN');
  } finally {
    await server.properties.set('admin.jids', 'boss@localhost');
  }
  assertError(await app.inject({ url: '/api/session', headers: second }), 401, 'AUTH_REQUIRED', undefined);
  await server.properties.unset('xmpp.offline.max-per-user');
});

test('properties: list, get, set with checks, unset', async () => {
  const list = (await app.inject({ url: '/api/properties', headers: ADMIN })).json().properties as { name: string }[];
  const offline = list.find((p) => p.name === 'xmpp.offline.max-per-user');
  assert.deepEqual(offline, {
    name: 'xmpp.offline.max-per-user', defined: true, value: 100, stored: null, isDefault: true, problem: null,
    type: 'integer', default: 100, min: 0, max: 100000, description: OFFLINE_PROPERTIES.maxPerUser.description, live: true,
  });
  assertError(await app.inject({ url: '/api/properties/no.such', headers: ADMIN }), 404, 'PROPERTY_NOT_FOUND');

  const set = (name: string, payload: object) => app.inject({ method: 'PUT', url: `/api/properties/${name}`, headers: ADMIN, payload });
  assertError(await set('xmpp.offline.max-per-user', { value: '100001' }), 400, 'PROPERTY_INVALID', /100001 is above the maximum 100000/);
  assertError(await set('xmpp.register.inband.enabled', { value: 'yes' }), 400, 'PROPERTY_INVALID', /"yes" is not true or false/);
  assertError(await set('xmpp.offline.max-per-user', {}), 400, 'VALIDATION_FAILED');
  assertError(await set('xmpp.ofline.max-per-user', { value: 1 }), 404, 'PROPERTY_NOT_FOUND', /"force": true/);

  const changed = await set('xmpp.register.inband.enabled', { value: true });
  assert.equal(changed.statusCode, 200);
  assert.equal(changed.json().value, true);
  assert.equal(server.properties.get('xmpp.register.inband.enabled')?.value, true);
  const forced = await set('someplugin.limit', { value: '5', force: true });
  assert.deepEqual(forced.json(), { name: 'someplugin.limit', defined: false, value: '5', stored: '5', isDefault: false, problem: null });

  const unset = await app.inject({ method: 'DELETE', url: '/api/properties/xmpp.register.inband.enabled', headers: ADMIN });
  assert.equal(unset.json().value, false);
  assert.equal(unset.json().isDefault, true);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/properties/someplugin.limit', headers: ADMIN })).statusCode, 204);
  assertError(await app.inject({ method: 'DELETE', url: '/api/properties/someplugin.limit', headers: ADMIN }), 404, 'PROPERTY_NOT_FOUND');
});

test('plugins: upload is checked, installed and loaded; its admin route and page appear; remove unloads it', async () => {
  const upload = (payload: Buffer, type = 'application/gzip') =>
    app.inject({ method: 'POST', url: '/api/plugins', headers: { ...ADMIN, 'content-type': type }, payload });

  assertError(await upload(Buffer.from('not an archive')), 400, 'PLUGIN_ARCHIVE_INVALID', /not a gzip-compressed tar archive/);
  assertError(await upload(pluginArchive({ name: 'evil' }, [{ path: '../../evil.js', data: 'x' }])), 400, 'PLUGIN_ARCHIVE_INVALID', /contains "\.\."/);
  assertError(await upload(await exampleArchive(), 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertError(await upload(Buffer.alloc(0)), 400, 'BAD_REQUEST', /send the archive as the request body/);
  assert.deepEqual((await app.inject({ url: '/api/plugins', headers: ADMIN })).json(), { plugins: [] }, 'nothing refused was installed');

  const created = await upload(await exampleArchive());
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().plugin.name, 'example');
  assert.equal(created.json().plugin.state, 'loaded');
  assert.equal(created.json().replaced, null);
  assert.deepEqual(server.disco.features('host'), ['urn:xmppd:example:echo']);

  const stats = await app.inject({ url: '/plugins/example/stats', headers: ADMIN });
  assert.equal(stats.statusCode, 200);
  assert.equal(stats.json().echoes, 0);
  assertError(await app.inject({ url: '/plugins/example/stats' }), 401, 'AUTH_REQUIRED');
  assertError(await app.inject({ url: '/plugins/example/nope', headers: ADMIN }), 404, 'NOT_FOUND');
  assertError(await app.inject({ url: '/plugins/example/st%61ts%2Fx', headers: ADMIN }), 404, 'NOT_FOUND', /st%61ts%2Fx/);
  assertError(await app.inject({ url: '/plugins/example/%E0%A4%A', headers: ADMIN }), 400, 'BAD_REQUEST', /malformed URL/);
  assert.deepEqual((await app.inject({ url: '/api/pages', headers: ADMIN })).json().pages, [
    { plugin: 'example', id: 'stats', title: 'Echo statistics', url: '/plugins/example/stats' },
  ]);

  const upgraded = await upload(await exampleArchive(2));
  assert.equal(upgraded.statusCode, 201);
  assert.equal(upgraded.json().plugin.version, '2.0.0');
  assert.equal(upgraded.json().replaced, '1.0.0');
  assert.equal((await app.inject({ url: '/api/plugins/example', headers: ADMIN })).json().version, '2.0.0');

  const failing = await upload(pluginArchive({ name: 'failing', load: "throw new Error('no config');" }));
  assertError(failing, 422, 'PLUGIN_LOAD_FAILED', /installed as failing\.tgz, but it did not load: no config/);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/plugins/failing', headers: ADMIN })).statusCode, 204);

  assert.equal((await app.inject({ method: 'DELETE', url: '/api/plugins/example', headers: ADMIN })).statusCode, 204);
  assert.deepEqual(server.disco.features('host'), []);
  assertError(await app.inject({ url: '/plugins/example/stats', headers: ADMIN }), 404, 'NOT_FOUND');
  assertError(await app.inject({ method: 'DELETE', url: '/api/plugins/example', headers: ADMIN }), 404, 'PLUGIN_NOT_FOUND');
  assertError(await app.inject({ url: '/api/plugins/example', headers: ADMIN }), 404, 'PLUGIN_NOT_FOUND');
});

test('an upload above plugins.archive.max-bytes is refused before it is read', async () => {
  await server.properties.set('plugins.archive.max-bytes', String(1024 * 1024));
  try {
    const res = await app.inject({
      method: 'POST', url: '/api/plugins', headers: { ...ADMIN, 'content-type': 'application/gzip' }, payload: Buffer.alloc(1024 * 1024 + 1),
    });
    assertError(res, 413, 'PAYLOAD_TOO_LARGE', /above plugins\.archive\.max-bytes \(1048576\)/);
  } finally {
    await server.properties.unset('plugins.archive.max-bytes');
  }
});

test('repeated failed logins are throttled per address and per account, with Retry-After', async () => {
  await server.properties.set('admin.login.max-failures', '3');
  try {
    const login = (jid: string, password: string, remoteAddress: string) =>
      app.inject({ method: 'POST', url: '/api/session', payload: { jid, password }, remoteAddress });
    for (let i = 0; i < 3; i++) assertError(await login('carol@localhost', 'guess', '10.0.0.1'), 401, 'AUTH_FAILED');

    const byAddress = await login('boss@localhost', 'boss-pw', '10.0.0.1');
    assertError(byAddress, 429, 'TOO_MANY_ATTEMPTS');
    assert.ok(Number(byAddress.headers['retry-after']) > 0, 'Retry-After says when to come back');
    const basicToo = await app.inject({ url: '/api/properties', headers: ADMIN, remoteAddress: '10.0.0.1' });
    assertError(basicToo, 429, 'TOO_MANY_ATTEMPTS');

    assertError(await login('carol@localhost', 'carol-pw', '10.0.0.2'), 429, 'TOO_MANY_ATTEMPTS', /account/);
    assert.equal((await login('boss@localhost', 'boss-pw', '10.0.0.2')).statusCode, 200, 'another address and account are not affected');
  } finally {
    await server.properties.set('admin.login.max-failures', '10');
  }
});
