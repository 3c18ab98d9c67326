// Plugin archives as ordinary tools make them: GNU tar and bsdtar (libarchive, the tar of
// macOS and the BSDs), of a folder's contents (`-C dir .`, whose entries start with `./`) or
// of its files by name or of the folder itself, in each tool's formats. Each is made by the
// real program, then read as the server reads an upload or a dropped file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, readPluginArchive } from './archive.ts';
import { readTar } from './tar.ts';
import { gunzipSync } from 'node:zlib';

const MB = 1024 * 1024;
const MANIFEST = '{"name":"echo","version":"1.0.0"}';
// Longer than the 100 bytes of a ustar name field, so each format's long-name scheme is used.
const DEEP = `lib/${'d'.repeat(60)}/${'e'.repeat(60)}/module.js`;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-tar-tools-'));
  const plugin = join(dir, 'echo');
  mkdirSync(join(plugin, DEEP, '..'), { recursive: true });
  writeFileSync(join(plugin, 'plugin.json'), MANIFEST);
  writeFileSync(join(plugin, 'index.js'), 'export default { load() {} };');
  writeFileSync(join(plugin, DEEP), 'export const deep = true;');
  return { dir, plugin, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a tar program in `cwd` and returns the archive it wrote. */
function make(tool: string, args: string[], cwd: string): Buffer {
  const out = join(cwd, 'out.tgz');
  execFileSync(tool, ['-czf', out, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const archive = readFileSync(out);
  rmSync(out);
  return archive;
}

const VARIANTS: [string, string, (w: ReturnType<typeof workspace>) => string[]][] = [
  ['GNU tar', 'tar', (w) => ['-C', w.plugin, '.']],
  ['GNU tar', 'tar', (w) => ['-C', w.plugin, 'plugin.json', 'index.js', 'lib']],
  ['GNU tar', 'tar', (w) => ['-C', w.dir, 'echo']],
  ['GNU tar', 'tar', (w) => ['-C', w.dir, './echo/']],
  ['GNU tar', 'tar', (w) => ['--format=pax', '-C', w.plugin, '.']],
  ['GNU tar', 'tar', (w) => ['--format=ustar', '-C', w.plugin, '.']],
  ['GNU tar', 'tar', (w) => ['--format=oldgnu', '-C', w.plugin, '.']],
  ['bsdtar', 'bsdtar', (w) => ['-C', w.plugin, '.']],
  ['bsdtar', 'bsdtar', (w) => ['-C', w.plugin, 'plugin.json', 'index.js', 'lib']],
  ['bsdtar', 'bsdtar', (w) => ['-C', w.dir, 'echo']],
  ['bsdtar', 'bsdtar', (w) => ['--format=ustar', '-C', w.plugin, '.']],
  ['bsdtar', 'bsdtar', (w) => ['--format=gnutar', '-C', w.plugin, '.']],
];

for (const [name, tool, args] of VARIANTS) {
  const w0 = workspace();
  const shown = `${tool} -czf p.tgz ${args(w0).join(' ').replaceAll(w0.dir, 'DIR')}`;
  w0.remove();
  test(`${name}: ${shown} is accepted with the plugin's files at its root`, async () => {
    const w = workspace();
    try {
      const archive = make(tool, args(w), w.dir);
      const contents = await readPluginArchive(archive, 10 * MB);
      assert.equal(contents.manifestText, MANIFEST);
      assert.deepEqual(contents.files.map((f) => f.path).sort(), ['index.js', DEEP, 'plugin.json'].sort());
      assert.equal(contents.files.find((f) => f.path === DEEP)!.data.toString(), 'export const deep = true;');
    } finally {
      w.remove();
    }
  });
}

test('the `./` entry these tools write is what used to be refused', () => {
  const w = workspace();
  try {
    for (const tool of ['tar', 'bsdtar']) {
      const entries = readTar(gunzipSync(make(tool, ['-C', w.plugin, '.'], w.dir))).map((e) => e.path);
      assert.ok(entries.includes('./'), `${tool}: ${entries.join(' ')}`);
      assert.ok(entries.includes('./plugin.json'), `${tool}: ${entries.join(' ')}`);
    }
  } finally {
    w.remove();
  }
});

async function refused(archive: Buffer, reason: RegExp): Promise<void> {
  await assert.rejects(readPluginArchive(archive, 10 * MB), (err: Error) => {
    assert.ok(err instanceof ArchiveError, `${err.name}: ${err.message}`);
    assert.match(err.message, reason);
    return true;
  });
}

test('what the same tools can be made to write outside the folder is still refused', async () => {
  const w = workspace();
  try {
    writeFileSync(join(w.dir, 'secret'), 'x');
    for (const tool of ['tar', 'bsdtar']) {
      // -P keeps `..` and leading slashes, which both tools strip by default.
      await refused(make(tool, ['-P', '-C', w.plugin, '.', '../secret'], w.dir), /entry "\.\.\/secret" contains "\.\."/);
      await refused(make(tool, ['-P', '-C', w.plugin, 'plugin.json', join(w.dir, 'secret')], w.dir), /has an absolute path/);
    }
    symlinkSync('/etc/passwd', join(w.plugin, 'passwd'));
    for (const tool of ['tar', 'bsdtar']) {
      await refused(make(tool, ['-C', w.plugin, '.'], w.dir), /"passwd" is a symbolic link to "\/etc\/passwd"/);
    }
  } finally {
    w.remove();
  }
});
