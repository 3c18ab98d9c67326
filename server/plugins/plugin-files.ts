// Installing and removing plugins as files, shared by `xmppd plugin` and the admin API. Both
// only change the plugins folder; a running server follows it like any other change. An
// archive is checked completely before it is put in place, and it is put in place by a
// rename, so a server watching the folder never sees half a file.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveError, readPluginArchive } from './archive.ts';
import type { PropertyRegistry } from '../properties/property-registry.ts';
import type { PluginManifest } from './manifest.ts';
import { scanPluginsDir, type PluginSource } from './plugin-sources.ts';
import { inspectArchive, inspectArchiveFile, inspectFolder, PluginRefusal, type StagingOptions } from './plugin-staging.ts';

export type PluginFileErrorCode = 'invalid' | 'conflict' | 'not-found' | 'is-folder';

export class PluginFileError extends Error {
  constructor(readonly code: PluginFileErrorCode, message: string) {
    super(message);
    this.name = 'PluginFileError';
  }
}

export interface InstalledSource {
  source: PluginSource;
  manifest: PluginManifest | null;
  /** Why it cannot be used, as far as can be told without running it. */
  problem: string | null;
}

/** Every source in the folder with its manifest, read without running anything. */
export async function readInstalled(pluginsDir: string, options: StagingOptions): Promise<InstalledSource[]> {
  const out: InstalledSource[] = [];
  for (const source of await scanPluginsDir(pluginsDir)) {
    try {
      const manifest = source.kind === 'archive'
        ? (await inspectArchiveFile(source.path, options)).manifest
        : await inspectFolder(source.path, options);
      out.push({ source, manifest, problem: null });
    } catch (err) {
      if (!(err instanceof PluginRefusal)) throw err;
      out.push({ source, manifest: null, problem: err.message });
    }
  }
  return out;
}

export interface InstallResult {
  manifest: PluginManifest;
  /** The archive's name in the plugins folder. */
  file: string;
  /** The version it replaces, if any. */
  replaced: string | null;
}

/**
 * Checks an archive and puts it in the plugins folder as <name>.tgz, replacing an older
 * archive of the same plugin. Refused (PluginFileError) if it is not a usable plugin, if the
 * plugin is installed as a folder, or if another clustering plugin is installed.
 */
export async function installArchive(pluginsDir: string, archive: Buffer, options: StagingOptions): Promise<InstallResult> {
  let manifest: PluginManifest;
  try {
    manifest = inspectArchive(await readPluginArchive(archive, options.maxArchiveBytes), options);
  } catch (err) {
    if (err instanceof PluginRefusal || err instanceof ArchiveError) throw new PluginFileError('invalid', err.message);
    throw err;
  }
  const installed = await readInstalled(pluginsDir, options);
  const same = installed.filter((i) => i.manifest?.name === manifest.name);
  const folder = same.find((i) => i.source.kind === 'folder');
  if (folder) {
    throw new PluginFileError('conflict', `${manifest.name} is installed as the folder ${folder.source.file}; remove that folder first`);
  }
  const cluster = manifest.kind === 'cluster' && installed.find((i) => i.manifest?.kind === 'cluster' && i.manifest.name !== manifest.name);
  if (cluster) {
    throw new PluginFileError('conflict', `refused: at most one plugin of kind "cluster" may be loaded, and ${cluster.manifest!.name} (${cluster.source.file}) is installed`);
  }

  await mkdir(pluginsDir, { recursive: true });
  const file = `${manifest.name}.tgz`;
  const partial = join(pluginsDir, `.${file}.${randomBytes(4).toString('hex')}.partial`);
  await writeFile(partial, archive);
  await rename(partial, join(pluginsDir, file));
  // Another archive of the same plugin under another name would compete with this one.
  for (const other of same) if (other.source.file !== file) await rm(other.source.path, { force: true });
  return { manifest, file, replaced: same[0]?.manifest?.version ?? null };
}

/**
 * Removes the archive holding plugin `name` (or the archive named `name`). A folder plugin
 * is not deleted: it may be someone's working copy.
 */
export async function removePlugin(pluginsDir: string, name: string, options: StagingOptions): Promise<InstalledSource[]> {
  const installed = await readInstalled(pluginsDir, options);
  const matches = installed.filter((i) => i.manifest?.name === name || i.source.file === name || i.source.file === `${name}.tgz`);
  if (!matches.length) throw new PluginFileError('not-found', `no plugin named ${name} is installed in ${pluginsDir}`);
  const folder = matches.find((m) => m.source.kind === 'folder');
  if (folder) {
    throw new PluginFileError('is-folder', `${name} is the folder ${folder.source.path}, not an archive; delete the folder (or move it out) yourself`);
  }
  for (const m of matches) await rm(m.source.path, { force: true });
  return matches;
}


/**
 * Defines the properties that installed plugins declare in plugin.json, so that a registry
 * outside the server (the CLI's) checks their values too. Returns what could not be
 * defined (two plugins declaring one name differently, say).
 */
export async function defineDeclaredProperties(registry: PropertyRegistry, pluginsDir: string, options: StagingOptions): Promise<string[]> {
  const problems: string[] = [];
  for (const { manifest } of await readInstalled(pluginsDir, options)) {
    for (const def of manifest?.properties ?? []) {
      try {
        registry.define(def);
      } catch (err) {
        problems.push(`${manifest!.name}: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}
