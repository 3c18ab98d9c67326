// npm run build [-- NAME...]: packs each plugin folder of plugins/ into dist/plugins/NAME.tgz,
// the archive an operator drops into a server's plugins folder or installs with
// `xmppd plugin install`. A plugin written in TypeScript with the repository's dependencies
// (src/index.ts, no package.json) is bundled first (scripts/bundle-plugins.ts); a plugin whose
// own package.json has a build script is built first with `npm run build` in its folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE } from '../server/plugins/manifest.ts';
import { BUNDLE_ENTRY, isBundledPlugin, packPlugin } from '../server/plugins/plugin-pack.ts';
import { PluginRefusal } from '../server/plugins/plugin-staging.ts';
import { SERVER_VERSION } from '../server/version.ts';
import { bundlePlugin, describeBundle } from './bundle-plugins.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = join(ROOT, 'plugins');
const OUT = join(ROOT, 'dist', 'plugins');

function fail(message: string): never {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

const wanted = process.argv.slice(2);
const folders = readdirSync(SOURCES, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(SOURCES, e.name, MANIFEST_FILE)))
  .map((e) => e.name)
  .filter((name) => !wanted.length || wanted.includes(name))
  .sort();
for (const name of wanted) if (!folders.includes(name)) fail(`no plugin folder plugins/${name} with a ${MANIFEST_FILE}`);
if (!folders.length) fail(`no plugin folders (with a ${MANIFEST_FILE}) in ${relative(ROOT, SOURCES)}`);

mkdirSync(OUT, { recursive: true });
for (const folder of folders) {
  const dir = join(SOURCES, folder);
  const pkgFile = join(dir, 'package.json');
  const pkg = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as { scripts?: Record<string, string> }) : null;
  if (isBundledPlugin(dir)) {
    try {
      process.stdout.write(`${describeBundle(await bundlePlugin(dir))}\n`);
    } catch (err) {
      // esbuild has printed the errors with file and line.
      fail(`plugins/${folder}: bundling ${BUNDLE_ENTRY} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  if (pkg?.scripts?.build) {
    const run = spawnSync('npm', ['run', 'build'], { cwd: dir, stdio: 'inherit' });
    if (run.status !== 0) fail(`plugins/${folder}: npm run build failed`);
  }
  let packed;
  try {
    packed = await packPlugin(dir, {
      serverVersion: SERVER_VERSION,
      skipped: (path) => process.stderr.write(`build: plugins/${folder}/${path} is a link; left out\n`),
    });
  } catch (err) {
    if (err instanceof PluginRefusal) fail(`plugins/${folder}: ${err.message}`);
    throw err;
  }
  const file = join(OUT, `${packed.manifest.name}.tgz`);
  writeFileSync(file, packed.archive);
  const size = packed.archive.length < 10240 ? `${packed.archive.length} bytes` : `${(packed.archive.length / 1024).toFixed(0)} KiB`;
  process.stdout.write(`${relative(ROOT, file)}  ${packed.manifest.name} ${packed.manifest.version}  (${packed.files.length} files, ${size})\n`);
}
