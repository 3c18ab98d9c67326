// The admin listener of a real server process: as a script uses it (HTTP Basic) and as the
// console will (login, session cookie, CSRF token), for plugins and properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer } from '../helpers/server-process.ts';
import { admin, ADMIN_PROPERTIES, ADMIN_USER, exampleArchive, pluginArchive } from './fixtures.ts';

test('a script installs, inspects and removes a plugin and changes its property through the admin API', async () => {
  const server = await startTestServer({ properties: ADMIN_PROPERTIES });
  try {
    await server.addUser('admin', ADMIN_USER[1]);
    await server.addUser('eve', 'eve-pw');
    const port = server.adminPort;

    assert.equal((await admin(port, 'GET', '/api/plugins', { user: null })).status, 401);
    const notAdmin = await admin(port, 'GET', '/api/plugins', { user: ['eve', 'eve-pw'] });
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.code, 'NOT_ADMIN');

    const bad = await admin(port, 'POST', '/api/plugins', { archive: pluginArchive({ name: 'links' }, [{ path: 'x', type: 'symlink', linkname: '/etc/shadow' }]) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'PLUGIN_ARCHIVE_INVALID');
    assert.equal(bad.body.message, 'entry "x" is a symbolic link to "/etc/shadow" (links are not allowed)');

    const installed = await admin(port, 'POST', '/api/plugins', { archive: await exampleArchive() });
    assert.equal(installed.status, 201, JSON.stringify(installed.body));
    assert.equal(installed.body.plugin.state, 'loaded');

    // Its property, declared in plugin.json, is checked against its bounds and applies live.
    const tooLong = await admin(port, 'PUT', '/api/properties/example.echo.max-length', { json: { value: 0 } });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.message, 'property example.echo.max-length: 0 is below the minimum 1');
    assert.equal((await admin(port, 'PUT', '/api/properties/example.echo.max-length', { json: { value: 3 } })).status, 200);
    const client = await RawClient.login(server.c2sPort, 'eve', 'eve-pw');
    const refused = await client.iq("<iq type='get' to='localhost'><echo xmlns='urn:xmppd:example:echo'>four</echo></iq>");
    assert.ok(refused.getChild('error')!.getChild('not-acceptable'), String(refused));
    assert.equal(refused.getChild('error')!.getChildText('text'), 'At most 3 characters are echoed');
    await client.close();

    const stats = await admin(port, 'GET', '/plugins/example/stats');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.version, '1.0.0');

    assert.equal((await admin(port, 'DELETE', '/api/plugins/example')).status, 204);
    assert.deepEqual((await admin(port, 'GET', '/api/plugins')).body, { plugins: [] });
    const orphan = (await admin(port, 'GET', '/api/properties/example.echo.max-length')).body;
    assert.deepEqual(orphan, { name: 'example.echo.max-length', defined: false, value: '3', stored: '3', isDefault: false, problem: null });
  } finally {
    await server.stop();
  }
});

test('a console session needs its CSRF token for changes and ends at logout', async () => {
  const server = await startTestServer({ properties: ADMIN_PROPERTIES });
  try {
    await server.addUser('admin', ADMIN_USER[1]);
    const port = server.adminPort;
    const login = await admin(port, 'POST', '/api/session', { user: null, json: { jid: 'admin', password: ADMIN_USER[1] } });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = login.body;
    const asConsole = (token?: string) => ({ user: null, headers: { cookie, ...(token ? { 'x-csrf-token': token } : {}) } });

    assert.equal((await admin(port, 'GET', '/api/properties/xmpp.offline.max-per-user', asConsole())).body.value, 100);
    const forged = await admin(port, 'PUT', '/api/properties/xmpp.offline.max-per-user', { ...asConsole(), json: { value: 5 } });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.code, 'CSRF_TOKEN_INVALID');
    const set = await admin(port, 'PUT', '/api/properties/xmpp.offline.max-per-user', { ...asConsole(csrfToken), json: { value: 5 } });
    assert.equal(set.status, 200);
    assert.equal(set.body.value, 5);

    assert.equal((await admin(port, 'DELETE', '/api/session', asConsole(csrfToken))).status, 204);
    assert.equal((await admin(port, 'GET', '/api/session', asConsole())).status, 401);
  } finally {
    await server.stop();
  }
});
