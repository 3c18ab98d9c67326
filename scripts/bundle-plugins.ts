// Bundles each plugin written in TypeScript (plugins/NAME/src/index.ts, no package.json of
// its own) into the one JavaScript module the server loads (plugins/NAME/index.js, or the
// manifest's `main`): the plugin's sources and the npm packages they import, which are the
// repository's dependencies (hazelcast-client, say), in one file, so the plugin folder or
// archive needs no node_modules. 'xmppd' stays an import: the server resolves it to its own
// API when it loads the plugin. Run by `npm install` / `npm ci` (the prepare script) and by
// `npm run build`; with names, only those plugins.
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { MANIFEST_FILE, parseManifestText } from '../server/plugins/manifest.ts';
import { BUNDLE_ENTRY, isBundledPlugin } from '../server/plugins/plugin-pack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PLUGINS_DIR = join(ROOT, 'plugins');

const BANNER = [
  '// Generated from src/ by `npm run build` (scripts/bundle-plugins.ts): edit src/, not this file.',
  // Bundled CommonJS dependencies call require() for Node's own modules; an ES module has none.
  "import { createRequire as __xmppdCreateRequire } from 'node:module';",
  'const require = __xmppdCreateRequire(import.meta.url);',
].join('\n');

export interface BundledPlugin {
  name: string;
  /** The generated file. */
  file: string;
  bytes: number;
  /** False when the file already held exactly this bundle (left untouched). */
  written: boolean;
}

/** Folder names under plugins/ of bundled plugins (see isBundledPlugin), sorted. */
export function bundledPluginFolders(): string[] {
  return readdirSync(PLUGINS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && isBundledPlugin(join(PLUGINS_DIR, e.name)))
    .map((e) => e.name)
    .sort();
}

/** Bundles one plugin folder; throws with esbuild's messages when the sources do not build. */
export async function bundlePlugin(dir: string): Promise<BundledPlugin> {
  const manifest = parseManifestText(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  const outfile = join(dir, manifest.main);
  const result = await build({
    entryPoints: [join(dir, BUNDLE_ENTRY)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['xmppd', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
    // The repository's packages, wherever the plugin folder is.
    nodePaths: [join(ROOT, 'node_modules')],
    banner: { js: BANNER },
    write: false,
    logLevel: 'warning',
  });
  const code = result.outputFiles.find((f) => f.path === outfile)!.contents;
  const current = existsSync(outfile) ? readFileSync(outfile) : null;
  // An unchanged bundle is not rewritten: a server watching this folder would reload the plugin.
  const written = !current || !Buffer.from(code).equals(current);
  if (written) writeFileSync(outfile, code);
  return { name: manifest.name, file: outfile, bytes: code.length, written };
}

/** Bundles the named folders (all TypeScript plugins when none are named). */
export async function bundlePlugins(folders: string[] = bundledPluginFolders()): Promise<BundledPlugin[]> {
  const out: BundledPlugin[] = [];
  for (const folder of folders) out.push(await bundlePlugin(join(PLUGINS_DIR, folder)));
  return out;
}

/** One line for the console: the file, the plugin and the size. */
export function describeBundle(b: BundledPlugin): string {
  return `${relative(ROOT, b.file)}  ${b.name}  (${(b.bytes / 1024).toFixed(0)} KiB${b.written ? '' : ', unchanged'})`;
}

// Run as a script (not imported by build-plugins.ts).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const wanted = process.argv.slice(2);
  const all = bundledPluginFolders();
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length) {
    process.stderr.write(`bundle: no plugin folder with ${BUNDLE_ENTRY} (and no package.json) named ${unknown.join(', ')} in plugins/\n`);
    process.exit(1);
  }
  try {
    for (const b of await bundlePlugins(wanted.length ? wanted : all)) process.stdout.write(`${describeBundle(b)}\n`);
  } catch (err) {
    // esbuild has printed the errors with file and line.
    process.stderr.write(`bundle: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exit(1);
  }
}
