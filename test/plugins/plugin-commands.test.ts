// xmppd plugin list|install|remove, with no server running and against a running one, and
// `xmppd property` knowing the properties plugins declare.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { databaseUrl, startTestServer } from '../helpers/server-process.ts';
import { EXAMPLE_DIR, exampleArchive, pluginArchive } from './fixtures.ts';

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-plugin-cli-'));
  const env = {
    XMPPD_DATA_DIR: join(dir, 'data'),
    XMPPD_PLUGINS_DIR: join(dir, 'plugins'),
    XMPPD_DATABASE_URL: `sqlite:${join(dir, 'data', 'xmppd.sqlite')}`,
  };
  const file = (name: string, data: Buffer): string => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };
  return { dir, env, file, run: (...args: string[]) => runCli(args, { env }), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

test('with no server running: install checks and places archives, list reads the folder, remove deletes', async () => {
  const box = sandbox();
  try {
    const example = box.file('example-1.0.0.tgz', await exampleArchive());
    const installed = await box.run('plugin', 'install', example);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /^installed example 1\.0\.0 as .*plugins\/example\.tgz\n$/);
    assert.match(installed.stderr, /no server is running with this configuration/);
    assert.deepEqual(readdirSync(box.env.XMPPD_PLUGINS_DIR), ['example.tgz'], 'no temporary file left behind');

    const upgrade = await box.run('plugin', 'install', box.file('example-2.tgz', await exampleArchive(2)));
    assert.match(upgrade.stdout, /^installed example 2\.0\.0 as .*example\.tgz \(replacing 1\.0\.0\)$/m);

    writeFileSync(join(box.env.XMPPD_PLUGINS_DIR, 'broken.tgz'), 'garbage');
    const list = await box.run('plugin', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stderr, /showing what the plugins folder holds/);
    assert.equal(list.stdout, [
      'NAME     VERSION  KIND     STATE      FILE',
      'broken   -        -        invalid    broken.tgz',
      '  not a gzip-compressed tar archive (.tgz): incorrect header check',
      'example  2.0.0    feature  installed  example.tgz',
      '',
    ].join('\n'));

    // Each refusal: the reason, exit status 1, nothing written.
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('garbage'), /^xmppd: not a gzip-compressed tar archive/],
      [pluginArchive({ name: 'escape' }, [{ path: '../x.js', data: '' }]), /^xmppd: entry "\.\.\/x\.js" contains "\.\."/],
      [pluginArchive({ name: 'future', manifest: { minServerVersion: '99.0.0' } }), /^xmppd: needs server version 99\.0\.0 or later/],
      [pluginArchive({ name: 'bad', manifest: { kind: 'clusterr' } }), /^xmppd: kind "clusterr" must be "feature" or "cluster"/],
    ];
    for (const [archive, reason] of cases) {
      const r = await box.run('plugin', 'install', box.file('candidate.tgz', archive));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, reason);
    }
    assert.equal((await box.run('plugin', 'install', box.file('c1.tgz', pluginArchive({ name: 'cluster-one', kind: 'cluster' })))).code, 0);
    const second = await box.run('plugin', 'install', box.file('c2.tgz', pluginArchive({ name: 'cluster-two', kind: 'cluster' })));
    assert.equal(second.code, 1);
    assert.match(second.stderr, /refused: at most one plugin of kind "cluster" may be loaded, and cluster-one \(cluster-one\.tgz\) is installed/);
    assert.deepEqual(readdirSync(box.env.XMPPD_PLUGINS_DIR).sort(), ['broken.tgz', 'cluster-one.tgz', 'example.tgz']);

    const missing = await box.run('plugin', 'install', join(box.dir, 'nope.tgz'));
    assert.deepEqual([missing.code, missing.stderr], [1, `xmppd: cannot read ${join(box.dir, 'nope.tgz')}: ENOENT\n`]);

    const removed = await box.run('plugin', 'remove', 'example');
    assert.deepEqual([removed.code, removed.stdout], [0, 'removed example 2.0.0 (example.tgz)\n']);
    assert.ok(!existsSync(join(box.env.XMPPD_PLUGINS_DIR, 'example.tgz')));
    const again = await box.run('plugin', 'remove', 'example');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^xmppd: no plugin named example is installed/);
    assert.equal((await box.run('plugin', 'frobnicate')).code, 2);
  } finally {
    box.remove();
  }
});

test('properties declared by an installed plugin are checked by `xmppd property` even with no server running', async () => {
  const box = sandbox();
  try {
    assert.equal((await box.run('plugin', 'install', box.file('example.tgz', await exampleArchive()))).code, 0);
    const low = await box.run('property', 'set', 'example.echo.max-length', '0');
    assert.deepEqual(low, { code: 2, stdout: '', stderr: 'xmppd: property example.echo.max-length: 0 is below the minimum 1\n' });
    assert.equal((await box.run('property', 'set', 'example.echo.max-length', '50')).code, 0);
    const list = await box.run('property', 'list');
    assert.match(list.stdout, /^example\.echo\.max-length +50 +100 +live +Longest text the example echo service sends back/m);
  } finally {
    box.remove();
  }
});

test('against a running server: install and remove report what the server did', async () => {
  const server = await startTestServer();
  try {
    const env = { XMPPD_DATA_DIR: server.dataDir, XMPPD_PLUGINS_DIR: server.pluginsDir, XMPPD_DATABASE_URL: databaseUrl(server.database.config) };
    const dir = mkdtempSync(join(tmpdir(), 'xmppd-plugin-cli-'));
    try {
      writeFileSync(join(dir, 'example.tgz'), await exampleArchive());
      const installed = await runCli(['plugin', 'install', join(dir, 'example.tgz')], { env });
      assert.equal(installed.code, 0, installed.stderr);
      assert.match(installed.stdout, /^installed example 1\.0\.0 as .*\nloaded by the running server \(node .+\)\n$/);

      await server.addUser('dave', 'pw');
      const client = await RawClient.login(server.c2sPort, 'dave', 'pw');
      const echo = await client.iq("<iq type='get' to='localhost'><echo xmlns='urn:xmppd:example:echo'>cli</echo></iq>");
      assert.equal(echo.getChild('echo')!.getText(), 'cli');
      await client.close();

      const list = await runCli(['plugin', 'list'], { env });
      assert.match(list.stdout, /^example +1\.0\.0 +feature +loaded +example\.tgz$/m);

      writeFileSync(join(dir, 'failing.tgz'), pluginArchive({ name: 'failing', load: "throw new Error('missing setting');" }));
      const failing = await runCli(['plugin', 'install', join(dir, 'failing.tgz')], { env });
      assert.equal(failing.code, 1);
      assert.equal(failing.stderr, 'xmppd: the running server did not load it: missing setting\n');

      const removed = await runCli(['plugin', 'remove', 'example'], { env });
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /^removed example 1\.0\.0 \(example\.tgz\)\nunloaded by the running server/);

      // Archives of the plugin's folder made by hand with the ordinary tools (entries `./`, `./plugin.json`).
      for (const tool of ['tar', 'bsdtar']) {
        const archive = join(dir, `by-${tool}.tgz`);
        execFileSync(tool, ['-czf', archive, '-C', EXAMPLE_DIR, '.']);
        const byHand = await runCli(['plugin', 'install', archive], { env });
        assert.equal(byHand.code, 0, `${tool}: ${byHand.stderr}`);
        assert.match(byHand.stdout, /^installed example 1\.0\.0 as .*\nloaded by the running server/, tool);
        const user = await RawClient.login(server.c2sPort, 'dave', 'pw');
        const answer = await user.iq(`<iq type='get' to='localhost'><echo xmlns='urn:xmppd:example:echo'>${tool}</echo></iq>`);
        assert.equal(answer.getChild('echo')!.getText(), tool);
        await user.close();
        assert.equal((await runCli(['plugin', 'remove', 'example'], { env })).code, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await server.stop();
  }
});
