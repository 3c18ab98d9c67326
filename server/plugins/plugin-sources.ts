// What the plugins folder holds: archives (NAME.tgz) and plugin folders (with a plugin.json),
// each with a fingerprint that changes when its content does. Names starting with "." are
// ignored, which is how files being copied in (".example.tgz.partial") stay invisible until
// they are renamed into place.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from './manifest.ts';

export type SourceKind = 'archive' | 'folder';

export interface PluginSource {
  /** The entry's name in the plugins folder. */
  file: string;
  path: string;
  kind: SourceKind;
  /** Changes whenever the content may have changed. */
  fingerprint: string;
}

export const ARCHIVE_SUFFIXES = ['.tgz', '.tar.gz'];
/** Files walked to fingerprint a folder plugin; beyond it only the count is compared. */
const MAX_FINGERPRINT_FILES = 10_000;

/** What to call a source whose manifest cannot be read: its name without the archive suffix. */
export function sourceStem(file: string): string {
  return file.replace(/\.(tgz|tar\.gz)$/i, '');
}

export function isArchiveName(name: string): boolean {
  return ARCHIVE_SUFFIXES.some((s) => name.toLowerCase().endsWith(s) && name.length > s.length);
}

/**
 * A folder's fingerprint: every file's path, size and modification time, except in
 * node_modules (large, and changed by installing, which comes with a new version anyway).
 */
async function folderFingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  let count = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await walk(path);
      } else if (++count <= MAX_FINGERPRINT_FILES) {
        const s = await stat(join(dir, path));
        hash.update(`${path}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  await walk('');
  return `${count}:${hash.digest('hex').slice(0, 32)}`;
}

/** Fingerprint of one entry, or null if it is not (or no longer) a plugin source. */
export async function fingerprintOf(path: string, kind: SourceKind): Promise<string | null> {
  try {
    if (kind === 'archive') {
      const s = await stat(path);
      return s.isFile() ? `${s.size}:${s.mtimeMs}:${s.ino}` : null;
    }
    return await folderFingerprint(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The plugin sources in `dir`, by name; an absent folder has none. */
export async function scanPluginsDir(dir: string): Promise<PluginSource[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const sources: PluginSource[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    let kind: SourceKind | null = null;
    if (e.isFile() && isArchiveName(e.name)) kind = 'archive';
    else if (e.isDirectory() && (await stat(join(path, MANIFEST_FILE)).catch(() => null))?.isFile()) kind = 'folder';
    if (!kind) continue;
    const fingerprint = await fingerprintOf(path, kind);
    if (fingerprint !== null) sources.push({ file: e.name, path, kind, fingerprint });
  }
  return sources;
}
