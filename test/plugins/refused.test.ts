// Plugins that cannot be used are refused with their reason, visible in the admin API and in
// `xmppd plugin list`, and the server keeps serving: clients, and the plugins already loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_VERSION } from '../../server/version.ts';
import { runCli } from '../cli/run-cli.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { databaseUrl, startTestServer } from '../helpers/server-process.ts';
import { admin, ADMIN_PROPERTIES, ADMIN_USER, dropFile, exampleArchive, pluginArchive, waitFor } from './fixtures.ts';

interface Listed {
  name: string;
  file: string;
  state: string;
  reason: string | null;
}

test('corrupt, too new, path-escaping and second-cluster plugins are refused with their reason; the server keeps serving', async () => {
  const server = await startTestServer({ properties: { 'plugins.scan-interval': '1', ...ADMIN_PROPERTIES } });
  let client: RawClient | null = null;
  try {
    await server.addUser('admin', ADMIN_USER[1]);
    await server.addUser('bob', 'pw');
    client = await RawClient.login(server.c2sPort, 'bob', 'pw');

    // Two good plugins first: the example, and a clustering plugin.
    dropFile(server.pluginsDir, 'example.tgz', await exampleArchive());
    dropFile(server.pluginsDir, 'cluster-one.tgz', pluginArchive({ name: 'cluster-one', kind: 'cluster', load: "ctx.feature('urn:test:cluster-one');" }));
    const list = async (): Promise<Listed[]> => (await admin(server.adminPort, 'GET', '/api/plugins')).body.plugins;
    await waitFor(async () => (await list()).filter((p) => p.state === 'loaded').length === 2, 5000, 'two plugins loaded');

    // Then the bad ones.
    dropFile(server.pluginsDir, 'future.tgz', pluginArchive({ name: 'from-the-future', manifest: { minServerVersion: '99.0.0' } }));
    dropFile(server.pluginsDir, 'corrupt.tgz', Buffer.from((await exampleArchive()).subarray(0, 300)));
    dropFile(server.pluginsDir, 'escape.tgz', pluginArchive({ name: 'escape' }, [{ path: '../../escaped.js', data: 'owned' }]));
    dropFile(server.pluginsDir, 'cluster-two.tgz', pluginArchive({ name: 'cluster-two', kind: 'cluster', load: "ctx.feature('urn:test:cluster-two');" }));

    const expected: Record<string, RegExp> = {
      'corrupt.tgz': /^not a gzip-compressed tar archive \(\.tgz\): unexpected end of file$/,
      'future.tgz': new RegExp(`^needs server version 99\\.0\\.0 or later; this server is ${SERVER_VERSION.replace(/\./g, '\\.')}$`),
      'escape.tgz': /^entry "\.\.\/\.\.\/escaped\.js" contains "\.\." \(it would escape the plugin folder\)$/,
      'cluster-two.tgz': /^refused: at most one plugin of kind "cluster" may be loaded, and cluster-one \(cluster-one\.tgz\) is that plugin$/,
    };
    const refused = await waitFor(async () => {
      const plugins = await list();
      return Object.keys(expected).every((f) => plugins.find((p) => p.file === f)?.state === 'failed') ? plugins : null;
    }, 5000, 'the four refusals');
    for (const [file, reason] of Object.entries(expected)) {
      assert.match(refused.find((p) => p.file === file)!.reason!, reason, file);
    }
    // Staged under <data>/plugin-work/<plugin>/, the entry would have landed in <data>/.
    assert.ok(!existsSync(join(server.dataDir, 'escaped.js')), 'nothing written outside the plugin folder');
    assert.deepEqual(refused.filter((p) => p.state === 'loaded').map((p) => p.name).sort(), ['cluster-one', 'example']);

    // The same reasons through the CLI, from the running server's status.
    const env = { XMPPD_DATA_DIR: server.dataDir, XMPPD_PLUGINS_DIR: server.pluginsDir, XMPPD_DATABASE_URL: databaseUrl(server.database.config) };
    const cli = await runCli(['plugin', 'list'], { env });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, /as reported by the running server/);
    assert.match(cli.stdout, /^NAME +VERSION +KIND +STATE +FILE$/m);
    assert.match(cli.stdout, /^cluster-two +1\.0\.0 +cluster +failed +cluster-two\.tgz\n {2}refused: at most one plugin of kind "cluster"/m);
    assert.match(cli.stdout, /^corrupt +- +- +failed +corrupt\.tgz\n {2}not a gzip-compressed tar archive/m);
    assert.match(cli.stdout, /^example +1\.0\.0 +feature +loaded +example\.tgz$/m);

    // Still serving: the connected client, a new one, and the plugins that were loaded.
    const echo = await client.iq("<iq type='get' to='localhost'><echo xmlns='urn:xmppd:example:echo'>still here</echo></iq>");
    assert.equal(echo.getChild('echo')!.getText(), 'still here');
    const fresh = await RawClient.login(server.c2sPort, 'bob', 'pw', { resource: 'second' });
    const info = await fresh.iq("<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes('urn:test:cluster-one'));
    assert.ok(!features.includes('urn:test:cluster-two'));
    await fresh.close();
  } finally {
    await client?.close();
    await server.stop();
  }
});
