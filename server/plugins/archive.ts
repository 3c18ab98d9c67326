// Plugin archives (.tgz): read, checked and written out. An archive comes from outside
// (an upload, a file dropped by hand), so nothing in it is trusted: it must unpack to less
// than the size limit, and every entry must be a plain file or folder whose path stays
// inside the plugin folder. Links, devices, absolute paths and `..` are refused outright
// rather than "fixed", so the operator learns that the archive is not what they think.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { MANIFEST_FILE } from './manifest.ts';
import { readTar, TarFormatError, type TarEntry } from './tar.ts';

const gunzipAsync = promisify(gunzip);

const MAX_ENTRIES = 100_000;

export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

export interface ArchiveFile {
  /** Relative to the plugin folder, '/'-separated, canonical. */
  path: string;
  data: Buffer;
  executable: boolean;
}

export interface ArchiveContents {
  manifestText: string;
  files: ArchiveFile[];
  directories: string[];
}

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * The canonical form of an entry's path ('' for the archive's own top, `.` or `./`), or the
 * reason it is refused.
 */
export function checkEntryPath(raw: string): string {
  const show = JSON.stringify(raw);
  if (raw === '' || raw.includes('\0')) throw new ArchiveError(`an entry has an empty or invalid name (${show})`);
  if (raw.includes('\\')) throw new ArchiveError(`entry ${show} contains a backslash (paths must use "/")`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new ArchiveError(`entry ${show} has an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ArchiveError(`entry ${show} contains ".." (it would escape the plugin folder)`);
  return parts.join('/');
}

/**
 * AppleDouble files (`._NAME`, and everything under `__MACOSX/`) are the extended attributes
 * of another entry, which macOS's tar and Finder add beside each file: never the plugin's.
 */
function isAppleDouble(path: string): boolean {
  return path.split('/').some((part, i) => part.startsWith('._') || (i === 0 && part === '__MACOSX'));
}

/** The canonical path of an acceptable entry, null for one that is skipped, or ArchiveError. */
function checkEntry(entry: TarEntry): string | null {
  const path = checkEntryPath(entry.path);
  // `tar -czf p.tgz -C dir .` starts with an entry for `./` itself: the folder being unpacked into.
  if (path === '' && entry.type !== 'directory') throw new ArchiveError(`entry ${JSON.stringify(entry.path)} names no file`);
  switch (entry.type) {
    case 'file':
    case 'directory':
      return path === '' || isAppleDouble(path) ? null : path;
    case 'symlink':
    case 'hardlink':
      throw new ArchiveError(`entry "${path}" is a ${entry.type === 'symlink' ? 'symbolic' : 'hard'} link to "${entry.linkname}" (links are not allowed)`);
    case 'character-device':
    case 'block-device':
    case 'fifo':
      throw new ArchiveError(`entry "${path}" is a device or pipe (only files and folders are allowed)`);
    default:
      throw new ArchiveError(`entry "${path}" has an unsupported type (only files and folders are allowed)`);
  }
}

/** Unpacks and checks an archive held in memory; throws ArchiveError saying why it is refused. */
export async function readPluginArchive(archive: Buffer, maxBytes: number): Promise<ArchiveContents> {
  if (archive.length > maxBytes) throw new ArchiveError(`the archive is ${mib(archive.length)}, above the limit of ${mib(maxBytes)}`);
  let tar: Buffer;
  try {
    tar = await gunzipAsync(archive, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new ArchiveError(`the archive unpacks to more than the limit of ${mib(maxBytes)}`);
    throw new ArchiveError(`not a gzip-compressed tar archive (.tgz): ${e.message}`);
  }
  let entries: TarEntry[];
  try {
    entries = readTar(tar);
  } catch (err) {
    if (err instanceof TarFormatError) throw new ArchiveError(`corrupt tar archive: ${err.message}`);
    throw err;
  }
  if (entries.length > MAX_ENTRIES) throw new ArchiveError(`the archive has ${entries.length} entries, more than ${MAX_ENTRIES}`);

  const files = new Map<string, TarEntry>();
  const directories = new Set<string>();
  for (const entry of entries) {
    const path = checkEntry(entry);
    if (path === null) continue;
    if (files.has(path) || (directories.has(path) && entry.type === 'file')) throw new ArchiveError(`entry "${path}" appears twice`);
    if (entry.type === 'directory') directories.add(path);
    else files.set(path, entry);
  }
  // A file standing where a folder is needed ("a" and "a/b") could not be written.
  for (const path of [...files.keys(), ...directories]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (files.has(parent)) throw new ArchiveError(`entry "${path}" is inside "${parent}", which is a file`);
    }
  }

  // The manifest is at the top, or in the one folder everything is in (as `tar czf x.tgz x/` makes).
  let root = '';
  if (!files.has(MANIFEST_FILE)) {
    const tops = new Set([...files.keys(), ...directories].map((p) => p.split('/')[0]!));
    const [top] = tops;
    if (tops.size !== 1 || !files.has(`${top}/${MANIFEST_FILE}`)) {
      throw new ArchiveError(`no ${MANIFEST_FILE} at the top of the archive (or in its single top folder)`);
    }
    root = `${top}/`;
  }
  const inRoot = (p: string): boolean => p.startsWith(root) && p.length > root.length;
  return {
    manifestText: files.get(`${root}${MANIFEST_FILE}`)!.data.toString('utf8'),
    files: [...files.entries()].filter(([p]) => inRoot(p)).map(([p, e]) => ({
      path: p.slice(root.length),
      data: e.data,
      executable: (e.mode & 0o111) !== 0,
    })),
    directories: [...directories].filter(inRoot).map((p) => p.slice(root.length)),
  };
}

/** Reads an archive file, refusing one above the limit before reading it. */
export async function readPluginArchiveFile(file: string, maxBytes: number): Promise<ArchiveContents> {
  const { size } = await stat(file);
  if (size > maxBytes) throw new ArchiveError(`the archive is ${mib(size)}, above the limit of ${mib(maxBytes)}`);
  return readPluginArchive(await readFile(file), maxBytes);
}

/** Writes checked contents into `dest`, a folder that must not exist yet. */
export async function writeArchiveContents(contents: ArchiveContents, dest: string): Promise<void> {
  const base = resolve(dest);
  await mkdir(base, { recursive: false });
  const inside = (p: string): string => {
    const full = resolve(base, p);
    // checkEntryPath already guarantees this; a second check costs nothing.
    if (!full.startsWith(base + sep)) throw new ArchiveError(`entry "${p}" would be written outside the plugin folder`);
    return full;
  };
  for (const d of contents.directories) await mkdir(inside(d), { recursive: true });
  for (const f of contents.files) {
    const full = inside(f.path);
    await mkdir(dirname(full), { recursive: true });
    // 'wx': never write through something that is already there.
    await writeFile(full, f.data, { flag: 'wx', mode: f.executable ? 0o755 : 0o644 });
  }
}
