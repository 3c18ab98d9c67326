// Packs a plugin folder into the .tgz archive the server installs (used by `npm run build`
// and by tests). What goes in: plugin.json and the compiled JavaScript with whatever else
// the plugin ships (node_modules included); what stays out: dot files, TypeScript sources,
// tsconfig files and tests; for a bundled plugin, its whole src/ folder (the bundle holds
// everything it runs). Links are not packed: the server refuses archives with links.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { inspectFolder, type StagingOptions } from './plugin-staging.ts';
import type { PluginManifest } from './manifest.ts';
import { writeTar, type TarInput } from './tar.ts';

export interface PackOptions extends Pick<StagingOptions, 'serverVersion'> {
  /** Changes a file's content on the way into the archive (tests make a version 2 this way). */
  transform?: (path: string, data: Buffer) => Buffer;
  /** Told about each file left out because it is a link. */
  skipped?: (path: string) => void;
}

export interface PackedPlugin {
  manifest: PluginManifest;
  archive: Buffer;
  files: string[];
}

/** The entry of a plugin written in TypeScript and bundled by scripts/bundle-plugins.ts. */
export const BUNDLE_ENTRY = 'src/index.ts';

/**
 * A bundled plugin has src/index.ts and no package.json of its own: its npm dependencies are
 * the repository's, and its entry module is one generated file holding them. (A plugin with
 * a package.json builds itself and ships its node_modules.)
 */
export function isBundledPlugin(dir: string): boolean {
  return existsSync(join(dir, BUNDLE_ENTRY)) && !existsSync(join(dir, 'package.json'));
}

function excluded(name: string, isDir: boolean, inNodeModules: boolean): boolean {
  if (name.startsWith('.')) return true;
  if (inNodeModules) return false;
  if (isDir) return name === 'test' || name === 'tests';
  return /\.test\.[cm]?[jt]s$/.test(name) || /(?<!\.d)\.[cm]?ts$/.test(name) || /^tsconfig.*\.json$/.test(name);
}

export async function packPlugin(dir: string, options: PackOptions): Promise<PackedPlugin> {
  // The same checks as the server's, so a bad manifest fails the build, not the install.
  const manifest = await inspectFolder(dir, { serverVersion: options.serverVersion, maxArchiveBytes: Number.MAX_SAFE_INTEGER });
  const bundled = isBundledPlugin(dir);
  const entries: TarInput[] = [];
  const walk = async (rel: string, inNodeModules: boolean): Promise<void> => {
    const list = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of list.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (excluded(e.name, e.isDirectory(), inNodeModules)) continue;
      if (bundled && rel === '' && e.name === 'src') continue;
      if (e.isSymbolicLink()) {
        options.skipped?.(path);
      } else if (e.isDirectory()) {
        entries.push({ path: `${path}/`, type: 'directory' });
        await walk(path, inNodeModules || e.name === 'node_modules');
      } else if (e.isFile()) {
        const full = join(dir, path);
        const data = await readFile(full);
        const mode = (await stat(full)).mode & 0o111 ? 0o755 : 0o644;
        entries.push({ path, data: options.transform ? options.transform(path, data) : data, mode });
      }
    }
  };
  await walk('', false);
  return {
    manifest,
    archive: gzipSync(writeTar(entries), { level: 9 }),
    files: entries.filter((e) => e.type !== 'directory').map((e) => e.path),
  };
}
