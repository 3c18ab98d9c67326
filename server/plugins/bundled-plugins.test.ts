import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Logger } from '../log.ts';
import { SERVER_VERSION } from '../version.ts';
import { seedPluginsDir } from './bundled-plugins.ts';
import { readInstalled } from './plugin-files.ts';

const options = { serverVersion: SERVER_VERSION, maxArchiveBytes: 64 * 1024 * 1024 };
const log = new Logger('test');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'xmppd-bundled-'));
}

test('a new plugins folder gets an archive of each bundled plugin, and not the example', async () => {
  const dir = tempDir();
  try {
    const plugins = join(dir, 'data', 'plugins');
    await seedPluginsDir(plugins, ['hazelcast'], options, log);
    assert.deepEqual(readdirSync(plugins), ['hazelcast.tgz']);
    const [installed] = await readInstalled(plugins, options);
    assert.equal(installed!.manifest?.name, 'hazelcast');
    assert.equal(installed!.manifest?.kind, 'cluster');
    assert.equal(installed!.problem, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an existing plugins folder is the operator\'s: nothing is added to it', async () => {
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(join(dir, 'plugins', 'README'), 'mine');
    await seedPluginsDir(join(dir, 'plugins'), ['hazelcast'], options, log);
    assert.deepEqual(readdirSync(join(dir, 'plugins')), ['README']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bundled plugin that is not there is skipped, and the folder is still made', async () => {
  const dir = tempDir();
  try {
    await seedPluginsDir(join(dir, 'plugins'), ['no-such-plugin'], options, log, join(dir, 'sources'));
    assert.deepEqual(readdirSync(join(dir, 'plugins')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
