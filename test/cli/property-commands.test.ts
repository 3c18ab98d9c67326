import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databaseUrl, startTestServer } from '../helpers/server-process.ts';
import { admin, ADMIN_PROPERTIES, ADMIN_USER } from '../plugins/fixtures.ts';
import { cliSandbox, runCli } from './run-cli.ts';

test('property set, get, list, unset', async () => {
  const box = cliSandbox();
  try {
    const set = await box.run('property', 'set', 'xmpp.offline.max-per-user', '250');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'xmpp.offline.max-per-user = 250\n');
    assert.deepEqual(await box.run('property', 'get', 'xmpp.offline.max-per-user'), { code: 0, stdout: '250\n', stderr: '' });

    const list = await box.run('property', 'list');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +VALUE +DEFAULT +APPLIES +DESCRIPTION$/);
    assert.match(list.stdout, /^xmpp\.offline\.max-per-user +250 +100 +live +Messages kept for a user who is offline/m);
    assert.match(list.stdout, /^xmpp\.auth\.scram\.iterations +4096 +4096 +live +PBKDF2 iterations/m);
    assert.match(list.stdout, /^xmpp\.register\.inband\.enabled +false +false +live /m);

    const unset = await box.run('property', 'unset', 'xmpp.offline.max-per-user');
    assert.deepEqual(unset, { code: 0, stdout: 'xmpp.offline.max-per-user unset: its default 100 applies\n', stderr: '' });
    assert.equal((await box.run('property', 'get', 'xmpp.offline.max-per-user')).stdout, '100\n');
  } finally {
    box.remove();
  }
});

test('a value out of bounds or of the wrong type is refused with exit 2, naming the bound', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('migrate')).code, 0);
    const cases: [string, string, string][] = [
      ['xmpp.offline.max-per-user', '100000000', 'xmppd: property xmpp.offline.max-per-user: 100000000 is above the maximum 100000\n'],
      ['xmpp.auth.scram.iterations', '10', 'xmppd: property xmpp.auth.scram.iterations: 10 is below the minimum 4096\n'],
      ['xmpp.register.inband.enabled', 'yes', 'xmppd: property xmpp.register.inband.enabled: "yes" is not true or false\n'],
      ['xmpp.c2s.negotiation-timeout', '-1', 'xmppd: property xmpp.c2s.negotiation-timeout: -1 is below the minimum 1\n'],
    ];
    for (const [name, value, stderr] of cases) {
      assert.deepEqual(await box.run('property', 'set', name, value), { code: 2, stdout: '', stderr }, `${name} ${value}`);
    }
    assert.equal((await box.run('property', 'get', 'xmpp.offline.max-per-user')).stdout, '100\n', 'nothing stored');
  } finally {
    box.remove();
  }
});

test('an unknown name needs --force; once stored it is listed and can be changed and unset', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('migrate')).code, 0);
    const typo = await box.run('property', 'set', 'xmpp.ofline.max-per-user', '5');
    assert.equal(typo.code, 1);
    assert.equal(typo.stderr, "xmppd: unknown property 'xmpp.ofline.max-per-user' (add --force to store it anyway, e.g. for a plugin not loaded here)\n");

    assert.equal((await box.run('property', 'set', 'myplugin.limit', '5', '--force')).code, 0);
    assert.equal((await box.run('property', 'set', 'myplugin.limit', '6')).code, 0, 'a stored name needs no --force');
    assert.equal((await box.run('property', 'get', 'myplugin.limit')).stdout, '6\n');
    assert.match((await box.run('property', 'list')).stdout, /^myplugin\.limit +6 +- +\? +\(stored, not defined here/m);
    assert.equal((await box.run('property', 'unset', 'myplugin.limit')).stdout, 'myplugin.limit unset: it is gone\n');

    const gone = await box.run('property', 'get', 'myplugin.limit');
    assert.deepEqual(gone, { code: 1, stdout: '', stderr: "xmppd: unknown property 'myplugin.limit'\n" });
  } finally {
    box.remove();
  }
});

test('module and web listener properties are known without a server: set without --force, bounds named, listed with defaults', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('migrate')).code, 0);
    assert.deepEqual(await box.run('property', 'set', 'xmpp.version.show-os', 'true'), { code: 0, stdout: 'xmpp.version.show-os = true\n', stderr: '' });
    assert.deepEqual(await box.run('property', 'set', 'xmpp.bosh.max-wait', '30'), { code: 0, stdout: 'xmpp.bosh.max-wait = 30\n', stderr: '' });
    assert.deepEqual(await box.run('property', 'set', 'xmpp.roster.max-groups', '40'), { code: 0, stdout: 'xmpp.roster.max-groups = 40\n', stderr: '' });

    const cases: [string, string, string][] = [
      ['xmpp.bosh.max-wait', '301', 'xmppd: property xmpp.bosh.max-wait: 301 is above the maximum 300\n'],
      ['xmpp.vcard.max-bytes', '10', 'xmppd: property xmpp.vcard.max-bytes: 10 is below the minimum 1024\n'],
      ['xmpp.version.show-os', 'yes', 'xmppd: property xmpp.version.show-os: "yes" is not true or false\n'],
      ['xmpp.roster.max-groups', '0', 'xmppd: property xmpp.roster.max-groups: 0 is below the minimum 1\n'],
      ['xmpp.auth.max-failures', '6', 'xmppd: property xmpp.auth.max-failures: 6 is above the maximum 5\n'],
      ['xmpp.register.inband.window', '0', 'xmppd: property xmpp.register.inband.window: 0 is below the minimum 1\n'],
      ['xmpp.health.check-interval', '301', 'xmppd: property xmpp.health.check-interval: 301 is above the maximum 300\n'],
    ];
    for (const [name, value, stderr] of cases) {
      assert.deepEqual(await box.run('property', 'set', name, value), { code: 2, stdout: '', stderr }, `${name} ${value}`);
    }
    assert.equal((await box.run('property', 'get', 'xmpp.bosh.max-wait')).stdout, '30\n', 'a refused value changes nothing');

    const list = await box.run('property', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, /not defined here/);
    assert.match(list.stdout, /^xmpp\.version\.show-os +true +false +live +Include the operating system/m);
    assert.match(list.stdout, /^xmpp\.bosh\.max-wait +30 +60 +live +Longest a BOSH request is held/m);
    assert.match(list.stdout, /^xmpp\.roster\.max-groups +40 +15 +live +Most groups one roster item may be in/m);
    assert.match(list.stdout, /^xmpp\.auth\.max-failures +5 +5 +live +Failed authentication attempts/m);
    assert.match(list.stdout, /^xmpp\.register\.inband\.window +60 +60 +live /m);
    assert.match(list.stdout, /^xmpp\.vcard\.max-bytes +65536 +65536 +live /m);
    assert.match(list.stdout, /^xmpp\.websocket\.ping-interval +30 +30 +live /m);

    assert.equal((await box.run('property', 'unset', 'xmpp.bosh.max-wait')).stdout, 'xmpp.bosh.max-wait unset: its default 60 applies\n');
  } finally {
    box.remove();
  }
});

test('the admin API of a running server lists the same properties as `xmppd property list`', async () => {
  // The web listener is off: its properties are still defined, as the CLI defines them.
  const server = await startTestServer({ properties: { ...ADMIN_PROPERTIES, 'xmpp.bosh.max-wait': '45' }, env: { XMPPD_HTTP_ENABLED: 'false' } });
  const box = cliSandbox(databaseUrl(server.database.config), server.domain);
  try {
    await server.addUser('admin', ADMIN_USER[1]);
    // The server's plugins folder, so that the CLI sees the same (no) plugins.
    const list = await runCli(['property', 'list', '--config', box.config], { env: { XMPPD_PLUGINS_DIR: server.pluginsDir } });
    assert.equal(list.code, 0, list.stderr);
    const cli = list.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(' ')[0]!);

    const res = await admin(server.adminPort, 'GET', '/api/properties');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const api = res.body.properties as { name: string; defined: boolean; value: unknown }[];
    assert.deepEqual(api.map((p) => p.name), cli);
    assert.deepEqual(api.filter((p) => !p.defined).map((p) => p.name), []);
    assert.equal(api.find((p) => p.name === 'xmpp.bosh.max-wait')!.value, 45);
    assert.ok(cli.includes('xmpp.roster.max-groups') && cli.includes('xmpp.auth.max-failures'));
  } finally {
    box.remove();
    await server.stop();
  }
});

test('JID, CIDR and origin lists are checked entry by entry: the CLI and the admin API refuse a bad one, naming it', async () => {
  const server = await startTestServer({ properties: ADMIN_PROPERTIES, env: { XMPPD_HTTP_ENABLED: 'false' } });
  const box = cliSandbox(databaseUrl(server.database.config), server.domain);
  try {
    await server.addUser('admin', ADMIN_USER[1]);
    const refusals: [string, string, string][] = [
      ['admin.jids', 'admin@localhost, bob@@localhost', '"bob@@localhost" is not a bare JID (user@domain) or a user name'],
      ['admin.jids', 'admin@localhost/laptop', '"admin@localhost/laptop" is a full JID; give the bare JID admin@localhost'],
      ['xmpp.http.trusted-proxies', '10.0.0.0/8,10.0.0.0/40', '"10.0.0.0/40" is not an IP address or a CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)'],
      ['xmpp.http.trusted-proxies', 'balancer.internal', '"balancer.internal" is not an IP address or a CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)'],
      ['xmpp.http.cors.origins', 'https://chat.example.com/app', '"https://chat.example.com/app" is not a web origin (scheme://host[:port], such as https://chat.example.com) or *'],
      ['xmpp.http.cors.origins', 'chat.example.com', '"chat.example.com" is not a web origin (scheme://host[:port], such as https://chat.example.com) or *'],
      ['xmpp.http.cors.origins', '*, https://chat.example.com', '"*" allows every origin: give it alone, or list the origins without it'],
    ];
    for (const [name, value, reason] of refusals) {
      const message = `property ${name}: ${reason}`;
      assert.deepEqual(await box.run('property', 'set', name, value), { code: 2, stdout: '', stderr: `xmppd: ${message}\n` }, `${name} ${value}`);
      const res = await admin(server.adminPort, 'PUT', `/api/properties/${name}`, { json: { value } });
      assert.equal(res.status, 400, `${name} ${value}`);
      assert.equal(res.body.code, 'PROPERTY_INVALID');
      assert.equal(res.body.message, message);
    }
    // Good lists are stored in canonical form, whichever way they were written.
    const cases: [string, string, string][] = [
      ['admin.jids', 'Admin@LOCALHOST alice', 'admin@localhost, alice'],
      ['xmpp.http.trusted-proxies', '10.0.0.0/8,192.0.2.10  FD00::/8', '10.0.0.0/8, 192.0.2.10, fd00::/8'],
      ['xmpp.http.cors.origins', 'https://Chat.Example.com/, http://localhost:8080', 'https://chat.example.com, http://localhost:8080'],
    ];
    for (const [name, value, stored] of cases) {
      assert.deepEqual(await box.run('property', 'set', name, value), { code: 0, stdout: `${name} = ${stored}\n`, stderr: '' });
    }
    const res = await admin(server.adminPort, 'PUT', '/api/properties/xmpp.http.cors.origins', { json: { value: 'https://a.example ,https://b.example' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.value, 'https://a.example, https://b.example');
    assert.equal(res.body.type, 'origin-list');
  } finally {
    box.remove();
    await server.stop();
  }
});
