import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readPluginArchive } from './archive.ts';
import { packPlugin } from './plugin-pack.ts';
import { PluginRefusal } from './plugin-staging.ts';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-pack-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('the archive holds the compiled plugin, not its sources, tests or dot files; links are left out', async () => {
  const dir = folder({
    'plugin.json': '{"name":"packed","version":"1.2.3","main":"dist/index.js"}',
    'dist/index.js': 'export default { load() {} };',
    'dist/index.d.ts': 'export {};',
    'src/index.ts': 'export default {};',
    'src/index.test.ts': '',
    'test/fixture.json': '{}',
    'tsconfig.json': '{}',
    '.git/config': '',
    'README.md': 'docs',
    'node_modules/dep/index.js': '',
    'node_modules/dep/types.ts': '',
  });
  try {
    symlinkSync('README.md', join(dir, 'alias.md'));
    const skipped: string[] = [];
    const packed = await packPlugin(dir, { serverVersion: '0.1.0', skipped: (p) => skipped.push(p) });
    assert.equal(packed.manifest.version, '1.2.3');
    assert.deepEqual(packed.files.sort(), ['README.md', 'dist/index.d.ts', 'dist/index.js', 'node_modules/dep/index.js', 'node_modules/dep/types.ts', 'plugin.json']);
    assert.deepEqual(skipped, ['alias.md']);
    // What the server reads back is exactly that, and acceptable to it.
    const contents = await readPluginArchive(packed.archive, 1024 * 1024);
    assert.deepEqual(contents.files.map((f) => f.path).sort(), packed.files.sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder the server would refuse fails the build with the same reason', async () => {
  const dir = folder({ 'plugin.json': '{"name":"packed","version":"1.0.0","main":"dist/index.js"}' });
  try {
    await assert.rejects(packPlugin(dir, { serverVersion: '0.1.0' }), (err: Error) => err instanceof PluginRefusal && err.message === 'its entry module dist/index.js is missing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
