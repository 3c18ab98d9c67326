// xmppd plugin list|install FILE|remove NAME: the plugins folder of this node. The command
// changes only the folder; a running server follows it within moments, and the command
// waits to report what the server made of the change (it reads the status file the server
// keeps in its work folder, so no credentials are needed on the server's own machine).
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { DEFAULT_MAX_ARCHIVE_BYTES } from '../properties/core-properties.ts';
import { installArchive, PluginFileError, readInstalled, removePlugin } from '../plugins/plugin-files.ts';
import { sourceStem } from '../plugins/plugin-sources.ts';
import { readStatusFile, workDirOf, type PluginStatus, type StatusFile } from '../plugins/work-dir.ts';
import { SERVER_VERSION } from '../version.ts';
import { CommandError, UsageError } from './cli-errors.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const PLUGIN_USAGE: [string, string][] = [
  ['plugin list', 'plugins in the plugins folder and their state'],
  ['plugin install FILE', 'check a plugin archive (.tgz) and install it'],
  ['plugin remove NAME', 'remove an installed plugin archive'],
];

/** How long install and remove wait for a running server to act. */
const WAIT_MS = 30_000;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

type Row = Pick<PluginStatus, 'name' | 'version' | 'kind' | 'file' | 'reason'> & { state: string };

function print(ctx: CommandContext, plugins: Row[]): void {
  if (!plugins.length) return;
  const rows = plugins.map((p) => [p.name, p.version ?? '-', p.kind ?? '-', p.state, p.file]);
  const lines = table([['NAME', 'VERSION', 'KIND', 'STATE', 'FILE'], ...rows]);
  ctx.out(lines[0]!);
  plugins.forEach((p, i) => {
    ctx.out(lines[i + 1]!);
    if (p.reason) ctx.out(`  ${p.reason}`);
  });
}

async function options(ctx: CommandContext): Promise<{ serverVersion: string; maxArchiveBytes: number }> {
  const maxArchiveBytes = await ctx.withProperties(async (_registry, core) => core.pluginsMaxArchiveBytes.value);
  return { serverVersion: SERVER_VERSION, maxArchiveBytes };
}

/** Polls the running server's status until `done` holds; null if no server runs or it takes too long. */
async function waitForServer(workDir: string, done: (s: StatusFile) => boolean): Promise<StatusFile | null> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const status = await readStatusFile(workDir);
    if (!status) return null;
    if (done(status)) return status;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function fileError(err: unknown): never {
  if (err instanceof PluginFileError) throw new CommandError(err.message);
  throw err;
}

export async function pluginCommand(ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = ctx.args;
  const config = () => ctx.config();
  switch (sub) {
    case 'list': {
      expectArgs(rest, 'plugin list', 0);
      const status = await readStatusFile(workDirOf(config().dataDir));
      if (status) {
        ctx.say(`as reported by the running server (node ${status.node}, pid ${status.pid}) at ${status.updatedAt}`);
        if (!status.plugins.length) ctx.say(`no plugins in ${config().pluginsDir}`);
        print(ctx, status.plugins);
        return;
      }
      ctx.say('no server is running with this configuration: showing what the plugins folder holds');
      // Listing must work while the database is away: then archives are checked against the default limit.
      const opts = await options(ctx).catch((err: Error) => {
        ctx.say(`cannot read plugins.archive.max-bytes (${err.message}); using its default`);
        return { serverVersion: SERVER_VERSION, maxArchiveBytes: DEFAULT_MAX_ARCHIVE_BYTES };
      });
      const installed = await readInstalled(config().pluginsDir, opts);
      if (!installed.length) ctx.say(`no plugins in ${config().pluginsDir}`);
      print(ctx, installed.map((i) => ({
        name: i.manifest?.name ?? sourceStem(i.source.file),
        version: i.manifest?.version ?? null,
        kind: i.manifest?.kind ?? null,
        state: i.problem ? 'invalid' : 'installed',
        file: i.source.file,
        reason: i.problem,
      })));
      return;
    }
    case 'install': {
      expectArgs(rest, 'plugin install FILE', 1);
      const file = rest[0]!;
      const archive = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        throw new CommandError(`cannot read ${file}: ${err.code ?? err.message}`);
      });
      const { pluginsDir, dataDir } = config();
      const started = new Date().toISOString();
      const result = await ctx.change('plugin install', { file }, async () => installArchive(pluginsDir, archive, await options(ctx)).catch(fileError),
        (r) => ({ plugin: `${r.manifest.name} ${r.manifest.version}`, replaced: r.replaced ?? undefined }));
      const { name, version } = result.manifest;
      const where = relative(process.cwd(), `${pluginsDir}/${result.file}`) || result.file;
      ctx.out(`installed ${name} ${version} as ${where}${result.replaced ? ` (replacing ${result.replaced})` : ''}`);
      const status = await waitForServer(workDirOf(dataDir), (s) => s.updatedAt > started &&
        s.plugins.some((p) => p.file === result.file && p.version === version && p.state !== 'loading'));
      const plugin = status?.plugins.find((p) => p.file === result.file);
      if (!plugin) {
        ctx.say('no server is running with this configuration (or it did not answer): it loads the plugin when it starts');
      } else if (plugin.state === 'loaded') {
        ctx.out(`loaded by the running server (node ${status!.node})`);
      } else {
        throw new CommandError(`the running server did not load it: ${plugin.reason}`);
      }
      return;
    }
    case 'remove': {
      expectArgs(rest, 'plugin remove NAME', 1);
      const { pluginsDir, dataDir } = config();
      const removed = await ctx.change('plugin remove', { plugin: rest[0]! }, async () => removePlugin(pluginsDir, rest[0]!, await options(ctx)).catch(fileError),
        (r) => ({ files: r.map((x) => x.source.file).join(',') }));
      const files = removed.map((r) => r.source.file);
      ctx.out(`removed ${removed.map((r) => (r.manifest ? `${r.manifest.name} ${r.manifest.version} (${r.source.file})` : r.source.file)).join(', ')}`);
      const status = await waitForServer(workDirOf(dataDir), (s) => !s.plugins.some((p) => files.includes(p.file)));
      if (status) ctx.out(`unloaded by the running server (node ${status.node})`);
      return;
    }
    case undefined:
      throw new UsageError('missing plugin command: list, install or remove');
    default:
      throw new UsageError(`unknown plugin command '${sub}': list, install or remove`);
  }
}
