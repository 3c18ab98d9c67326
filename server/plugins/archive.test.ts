import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArchiveError, readPluginArchive, writeArchiveContents } from './archive.ts';
import { writeTar, type TarInput } from './tar.ts';

const MB = 1024 * 1024;
const tgz = (entries: TarInput[]) => gzipSync(writeTar(entries));
const manifest = { path: 'plugin.json', data: '{"name":"p","version":"1.0.0"}' };

async function refused(archive: Buffer, reason: RegExp, limit = 10 * MB): Promise<void> {
  await assert.rejects(readPluginArchive(archive, limit), (err: Error) => {
    assert.ok(err instanceof ArchiveError, `${err.name}: ${err.message}`);
    assert.match(err.message, reason);
    return true;
  });
}

test('a plain archive unpacks into a new folder, executable bits kept, nothing else', async () => {
  const contents = await readPluginArchive(tgz([
    manifest,
    { path: './lib/', type: 'directory' },
    { path: './lib/a.js', data: 'export {}' },
    { path: 'bin/tool', data: '#!/bin/sh', mode: 0o775 },
  ]), MB);
  assert.equal(contents.manifestText, manifest.data);
  assert.deepEqual(contents.files.map((f) => f.path).sort(), ['bin/tool', 'lib/a.js', 'plugin.json']);
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-archive-'));
  try {
    await writeArchiveContents(contents, join(dir, 'out'));
    assert.equal(readFileSync(join(dir, 'out', 'lib', 'a.js'), 'utf8'), 'export {}');
    assert.equal(statSync(join(dir, 'out', 'bin', 'tool')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, 'out', 'plugin.json')).mode & 0o777, 0o644);
    await assert.rejects(writeArchiveContents(contents, join(dir, 'out')), /EEXIST/, 'never into an existing folder');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an archive with everything in one top folder (tar czf p.tgz p/) has its root there', async () => {
  const contents = await readPluginArchive(tgz([
    { path: 'p/', type: 'directory' },
    { path: 'p/plugin.json', data: manifest.data },
    { path: 'p/index.js', data: '' },
  ]), MB);
  assert.deepEqual(contents.files.map((f) => f.path).sort(), ['index.js', 'plugin.json']);
});

test('paths that escape the folder are refused', async () => {
  await refused(tgz([manifest, { path: '../evil.js', data: 'x' }]), /entry "\.\.\/evil\.js" contains "\.\."/);
  await refused(tgz([manifest, { path: 'lib/../../evil.js', data: 'x' }]), /contains "\.\."/);
  await refused(tgz([manifest, { path: '/etc/cron.d/evil', data: 'x' }]), /has an absolute path/);
  await refused(tgz([manifest, { path: 'C:/evil', data: 'x' }]), /has an absolute path/);
  await refused(tgz([manifest, { path: 'lib\\..\\evil', data: 'x' }]), /contains a backslash/);
});

test('links, devices and pipes are refused', async () => {
  await refused(tgz([manifest, { path: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]), /"passwd" is a symbolic link to "\/etc\/passwd" \(links are not allowed\)/);
  await refused(tgz([manifest, { path: 'copy', type: 'hardlink', linkname: 'plugin.json' }]), /is a hard link/);
  await refused(tgz([manifest, { path: 'null', type: 'character-device' }]), /is a device or pipe/);
  await refused(tgz([manifest, { path: 'disk', type: 'block-device' }]), /is a device or pipe/);
  await refused(tgz([manifest, { path: 'fifo', type: 'fifo' }]), /is a device or pipe/);
});

test('the size limit holds for the archive and for what it unpacks to (a gzip bomb)', async () => {
  const bomb = tgz([manifest, { path: 'zeros', data: Buffer.alloc(20 * MB) }]);
  assert.ok(bomb.length < 100 * 1024, 'the bomb itself is small');
  await refused(bomb, /unpacks to more than the limit of 10\.0 MiB/);
  await refused(Buffer.alloc(2 * MB), /the archive is 2\.0 MiB, above the limit of 1\.0 MiB/, MB);
});

test('corrupt, truncated and non-archive input, and archives without a manifest, are refused', async () => {
  const good = tgz([manifest]);
  await refused(Buffer.from('this is not gzip'), /not a gzip-compressed tar archive \(\.tgz\)/);
  await refused(good.subarray(0, good.length - 10), /not a gzip-compressed tar archive \(\.tgz\): unexpected end of file/);
  await refused(gzipSync(Buffer.from('plain text, gzipped, not a tar archive '.repeat(20))), /corrupt tar archive: entry at byte 0: checksum/);
  await refused(tgz([{ path: 'index.js', data: '' }]), /no plugin\.json at the top of the archive/);
  await refused(tgz([{ path: 'a/plugin.json', data: '{}' }, { path: 'b/x', data: '' }]), /no plugin\.json at the top/);
});

test('duplicate entries and files standing where folders are needed are refused', async () => {
  await refused(tgz([manifest, { path: 'a.js', data: '1' }, { path: './a.js', data: '2' }]), /entry "a\.js" appears twice/);
  await refused(tgz([manifest, { path: 'lib', data: '1' }, { path: 'lib/a.js', data: '2' }]), /entry "lib\/a\.js" is inside "lib", which is a file/);
  assert.ok(!existsSync(join(tmpdir(), 'evil.js')));
});

test('the entry for the archive\'s own top (./) and macOS\'s AppleDouble files are skipped, not refused', async () => {
  const contents = await readPluginArchive(tgz([
    { path: './', type: 'directory' },
    { path: '.', type: 'directory' },
    { path: './._plugin.json', data: 'attributes' },
    { path: './plugin.json', data: manifest.data },
    { path: './lib/', type: 'directory' },
    { path: './lib/._a.js', data: 'attributes' },
    { path: './lib/a.js', data: 'export {}' },
    { path: '__MACOSX/', type: 'directory' },
    { path: '__MACOSX/lib/._a.js', data: 'attributes' },
  ]), MB);
  assert.deepEqual(contents.files.map((f) => f.path).sort(), ['lib/a.js', 'plugin.json']);
  assert.deepEqual(contents.directories, ['lib']);
  // One top folder beside its AppleDouble twin (`tar czf echo.tgz echo/` on a Mac).
  const nested = await readPluginArchive(tgz([{ path: '._p', data: 'attributes' }, { path: 'p/', type: 'directory' }, { path: 'p/plugin.json', data: manifest.data }]), MB);
  assert.deepEqual(nested.files.map((f) => f.path), ['plugin.json']);
  await refused(tgz([manifest, { path: './', data: 'x' }]), /entry "\.\/" names no file/);
  await refused(tgz([manifest, { path: './._x', type: 'symlink', linkname: '/etc/passwd' }]), /is a symbolic link/);
  await refused(tgz([manifest, { path: '../._x', data: 'x' }]), /contains "\.\."/);
});
