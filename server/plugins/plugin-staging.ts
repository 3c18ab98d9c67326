// Turns a plugin source into a folder the server can run: an archive is checked and
// unpacked, a folder is copied, each into a fresh folder under the work directory. The copy
// is what gets imported, so the source can be replaced at any time, and each version gets
// module URLs of its own (ES modules cannot be unloaded; a new URL is a new module).
import { randomBytes } from 'node:crypto';
import { cp, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ArchiveError, readPluginArchiveFile, writeArchiveContents, type ArchiveContents } from './archive.ts';
import { MANIFEST_FILE, ManifestError, parseManifestText, serverVersionProblem, type PluginManifest } from './manifest.ts';
import type { PluginSource } from './plugin-sources.ts';

export interface StagedPlugin {
  manifest: PluginManifest;
  /** The folder the plugin runs from. */
  dir: string;
}

/** A plugin that cannot be used as it is; the message is the reason shown to the operator. */
export class PluginRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginRefusal';
  }
}

export interface StagingOptions {
  serverVersion: string;
  maxArchiveBytes: number;
}

function refusal(err: unknown): never {
  if (err instanceof ArchiveError || err instanceof ManifestError) throw new PluginRefusal(err.message);
  throw err;
}

/** Checks a manifest against this server and the files that come with it. */
function checkManifest(manifest: PluginManifest, serverVersion: string, hasFile: (p: string) => boolean, hasDir: (p: string) => boolean): void {
  const problem = serverVersionProblem(manifest, serverVersion);
  if (problem) throw new PluginRefusal(problem);
  if (!hasFile(manifest.main)) throw new PluginRefusal(`its entry module ${manifest.main} is missing`);
  if (manifest.migrations && !hasDir(manifest.migrations)) throw new PluginRefusal(`its migrations folder ${manifest.migrations} is missing`);
}

/** Everything that can be known about an unpacked archive without running it. */
export function inspectArchive(contents: ArchiveContents, options: StagingOptions): PluginManifest {
  let manifest: PluginManifest;
  try {
    manifest = parseManifestText(contents.manifestText);
  } catch (err) {
    return refusal(err);
  }
  const files = new Set(contents.files.map((f) => f.path));
  const dirs = new Set([...contents.directories, ...contents.files.flatMap((f) => {
    const parts = f.path.split('/');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
  })]);
  checkManifest(manifest, options.serverVersion, (p) => files.has(p), (p) => dirs.has(p));
  return manifest;
}

/** Reads and checks an archive file without unpacking it anywhere. */
export async function inspectArchiveFile(file: string, options: StagingOptions): Promise<{ manifest: PluginManifest; contents: ArchiveContents }> {
  let contents: ArchiveContents;
  try {
    contents = await readPluginArchiveFile(file, options.maxArchiveBytes);
  } catch (err) {
    return refusal(err);
  }
  return { manifest: inspectArchive(contents, options), contents };
}

/** Reads and checks a folder plugin's manifest. */
export async function inspectFolder(dir: string, options: StagingOptions): Promise<PluginManifest> {
  let manifest: PluginManifest;
  try {
    manifest = parseManifestText(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (err) {
    return refusal(err);
  }
  const exists = async (p: string, dir_: boolean): Promise<boolean> => {
    const s = await stat(join(dir, p)).catch(() => null);
    return !!s && (dir_ ? s.isDirectory() : s.isFile());
  };
  const [main, migrations] = [await exists(manifest.main, false), manifest.migrations ? await exists(manifest.migrations, true) : true];
  checkManifest(manifest, options.serverVersion, () => main, () => migrations);
  return manifest;
}

/** Stages a source under `workRoot`; throws PluginRefusal with the reason it cannot be used. */
export async function stagePlugin(source: PluginSource, workRoot: string, options: StagingOptions): Promise<StagedPlugin> {
  const target = (m: PluginManifest): string => join(workRoot, `${m.name}-${m.version}-${randomBytes(4).toString('hex')}`);
  if (source.kind === 'archive') {
    const { manifest, contents } = await inspectArchiveFile(source.path, options);
    const dir = target(manifest);
    try {
      await writeArchiveContents(contents, dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return { manifest, dir };
  }
  const manifest = await inspectFolder(source.path, options);
  const dir = target(manifest);
  // Dot entries (.git, node_modules/.bin links) are not part of what runs.
  await cp(source.path, dir, { recursive: true, filter: (src) => src === source.path || !basename(src).startsWith('.') });
  return { manifest, dir };
}
