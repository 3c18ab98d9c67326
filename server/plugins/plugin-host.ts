// The plugin host: keeps what runs equal to what the plugins folder holds. Each pass (on a
// file event, on the periodic scan, or when asked) compares the folder with what it saw
// last: new and changed sources are staged and checked, the plan decides what may run
// (plugin-plan.ts), then plugins are unloaded (dependents first) and loaded (dependencies
// first). Passes never overlap. A plugin that cannot be used is listed with the reason and
// nothing else is affected; client sessions never notice a plugin coming or going beyond
// the features it adds.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClusterSlot } from '../cluster/cluster-slot.ts';
import type { Logger } from '../log.ts';
import { moduleServicesOf } from '../module-services.ts';
import type { ServerContext } from '../server-context.ts';
import { migrate } from '../storage/migrator.ts';
import type { PluginKind } from './manifest.ts';
import { PluginContext, type Plugin } from './plugin-context.ts';
import { planPlugins } from './plugin-plan.ts';
import { AdminPageRegistry, PluginRouteTable } from './plugin-routes.ts';
import { fingerprintOf, scanPluginsDir, sourceStem, type PluginSource } from './plugin-sources.ts';
import { PluginRefusal, stagePlugin, type StagedPlugin } from './plugin-staging.ts';
import { prepareWorkDir, STATUS_FILE, type PluginStatus, type StatusFile } from './work-dir.ts';

/** A changed source is used once it has stayed the same this long (a copy may be under way). */
const SETTLE_MS = 300;
/** File events come in bursts; one pass after the burst is enough. */
const DEBOUNCE_MS = 100;
const LOAD_TIMEOUT_MS = 30_000;
const UNLOAD_TIMEOUT_MS = 30_000;

interface SourceRecord {
  source: PluginSource;
  staged: StagedPlugin | null;
  /** Why the source cannot be used at all (archive, manifest, server version). */
  refusal: string | null;
  /** The entry module's default export, imported once per staged folder. */
  plugin: Plugin | null;
  loaded: { ctx: PluginContext; api: unknown } | null;
  /** load() failed: not retried until the source changes. */
  failure: string | null;
  /** Not loaded for a reason that may go away (a dependency, another cluster plugin). */
  blocked: string | null;
  since: Date;
  shown: string;
}

export interface PluginHostOptions {
  server: ServerContext;
  /** Where a clustering plugin installs its cluster manager and routing table. */
  cluster: ClusterSlot;
  pluginsDir: string;
  /** Where sources are staged; emptied at start. */
  workDir: string;
  log: Logger;
  /** How long a plugin's load() may take (default 30 s). */
  loadTimeoutMs?: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function importPlugin(staged: StagedPlugin): Promise<Plugin> {
  let mod: { default?: Partial<Plugin> };
  try {
    mod = (await import(pathToFileURL(join(staged.dir, staged.manifest.main)).href)) as typeof mod;
  } catch (err) {
    throw new Error(`cannot import ${staged.manifest.main}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
  }
  if (typeof mod.default?.load !== 'function') throw new Error(`${staged.manifest.main} must export default { load(ctx) { ... } }`);
  return mod.default as Plugin;
}

export class PluginHost {
  readonly adminRoutes = new PluginRouteTable();
  /** Routes plugins serve on the client HTTP listeners, without authentication. */
  readonly publicRoutes = new PluginRouteTable();
  readonly adminPages = new AdminPageRegistry();
  readonly pluginsDir: string;
  private readonly server: ServerContext;
  private readonly cluster: ClusterSlot;
  private readonly workDir: string;
  private readonly log: Logger;
  private readonly loadTimeoutMs: number;
  private records = new Map<string, SourceRecord>();
  /** Loaded records, in the order they were loaded. */
  private loadOrder: SourceRecord[] = [];
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private stopInterval: (() => void) | null = null;
  private stopped = false;

  constructor(options: PluginHostOptions) {
    this.server = options.server;
    this.cluster = options.cluster;
    this.pluginsDir = options.pluginsDir;
    this.workDir = options.workDir;
    this.log = options.log;
    this.loadTimeoutMs = options.loadTimeoutMs ?? LOAD_TIMEOUT_MS;
  }

  /** Loads what the folder holds, then watches it. */
  /** True until the first pass at server start is done: plugins loaded then start with the server. */
  private starting = true;

  async start(): Promise<void> {
    await prepareWorkDir(this.workDir);
    await mkdir(this.pluginsDir, { recursive: true });
    await this.scan();
    this.starting = false;
    this.watchFolder();
    this.arm();
    this.stopInterval = this.server.core.pluginsScanInterval.onChange(() => this.arm());
  }

  /** Stops watching and unloads every plugin, dependents first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopInterval?.();
    for (const t of [this.timer, this.debounce]) if (t) clearTimeout(t);
    this.watcher?.close();
    await this.chain;
    for (const r of [...this.loadOrder].reverse()) await this.unload(r);
    await rm(join(this.workDir, STATUS_FILE), { force: true });
  }

  /**
   * Runs a pass over the folder and resolves when it is done. A request made while a pass
   * runs gets the next one, which sees everything changed before the request.
   */
  scan(): Promise<void> {
    if (this.stopped) return this.chain;
    if (this.queued) return this.queued;
    const pass = this.chain.then(async () => {
      this.queued = null;
      if (this.stopped) return;
      try {
        await this.reconcile();
      } catch (err) {
        this.log.error('plugin scan failed', { dir: this.pluginsDir, error: err instanceof Error ? err.stack : String(err) });
      }
    });
    this.queued = pass;
    this.chain = pass;
    return pass;
  }

  /** Every source in the folder with its state, by file name. */
  status(): PluginStatus[] {
    return [...this.records.values()].sort((a, b) => (a.source.file < b.source.file ? -1 : 1)).map((r) => this.statusOf(r));
  }

  private statusOf(r: SourceRecord): PluginStatus {
    const m = r.staged?.manifest;
    const reason = r.refusal ?? r.failure ?? r.blocked;
    return {
      name: m?.name ?? sourceStem(r.source.file),
      file: r.source.file,
      version: m?.version ?? null,
      kind: (m?.kind ?? null) as PluginKind | null,
      description: m?.description ?? '',
      author: m?.author ?? '',
      state: r.loaded ? 'loaded' : reason !== null ? 'failed' : 'loading',
      reason: r.loaded ? null : reason,
      since: r.since.toISOString(),
    };
  }

  private watchFolder(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = watch(this.pluginsDir, () => this.soon(DEBOUNCE_MS));
      this.watcher.on('error', (err) => {
        // The folder was removed or replaced: the periodic scan carries on and watches again.
        this.log.warn('cannot watch the plugins folder; relying on the periodic scan', { dir: this.pluginsDir, error: err.message });
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (err) {
      this.log.warn('cannot watch the plugins folder; relying on the periodic scan', { dir: this.pluginsDir, error: message(err) });
    }
  }

  private soon(ms: number): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.scan();
    }, ms);
    this.debounce.unref();
  }

  /** (Re)starts the periodic scan with the current interval. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.scan().finally(() => {
        this.watchFolder();
        this.arm();
      });
    }, this.server.core.pluginsScanInterval.value * 1000);
    this.timer.unref();
  }

  private async reconcile(): Promise<void> {
    const found = await scanPluginsDir(this.pluginsDir);
    const present = new Set(found.map((s) => s.file));
    const changed = found.filter((s) => this.records.get(s.file)?.source.fingerprint !== s.fingerprint);
    const incoming = new Map<string, SourceRecord>();
    if (changed.length) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      for (const s of changed) {
        if ((await fingerprintOf(s.path, s.kind)) === s.fingerprint) incoming.set(s.file, await this.stage(s));
        else this.soon(SETTLE_MS); // still being written: look again shortly
      }
    }
    const leaving = [...this.records.values()].filter((r) => !present.has(r.source.file) || incoming.has(r.source.file));
    const next = new Map(this.records);
    for (const r of leaving) next.delete(r.source.file);
    for (const [file, r] of incoming) next.set(file, r);
    // A plugin that failed to load gets another try when one of its dependencies changes.
    const renewed = new Set([...incoming.values()].flatMap((r) => (r.staged ? [r.staged.manifest.name] : [])));
    for (const r of next.values()) {
      if (r.failure && Object.keys(r.staged!.manifest.dependencies).some((d) => renewed.has(d))) r.failure = null;
    }

    const loadedNames = new Set(this.loadOrder.map((r) => r.staged!.manifest.name));
    const plan = planPlugins([...next.values()]
      .filter((r) => r.staged && !r.failure)
      .map((r) => ({ file: r.source.file, manifest: r.staged!.manifest, loaded: loadedNames.has(r.staged!.manifest.name) })));
    const wanted = new Set(plan.order);

    // Unload what leaves or may no longer run, and everything that depends on it.
    const going = new Set(this.loadOrder.filter((r) => leaving.includes(r) || !wanted.has(r.source.file)));
    for (let grew = true; grew;) {
      grew = false;
      const goingNames = new Set([...going].map((r) => r.staged!.manifest.name));
      for (const r of this.loadOrder) {
        if (!going.has(r) && Object.keys(r.staged!.manifest.dependencies).some((d) => goingNames.has(d))) {
          going.add(r);
          grew = true;
        }
      }
    }
    for (const r of [...this.loadOrder].reverse()) if (going.has(r)) await this.unload(r);
    for (const r of leaving) if (r.staged) await rm(r.staged.dir, { recursive: true, force: true });

    this.records = next;
    for (const r of next.values()) r.blocked = plan.blocked.get(r.source.file) ?? null;
    for (const file of plan.order) {
      const r = next.get(file)!;
      if (r.loaded) continue;
      const missing = Object.keys(r.staged!.manifest.dependencies).find((d) => !this.loadedApi(d).loaded);
      if (missing) r.blocked = `needs plugin ${missing}, which failed to load`;
      else await this.load(r);
    }
    for (const r of next.values()) this.touch(r);
    await this.writeStatus();
  }

  /** Updates `since` when what the operator sees about a source changes. */
  private touch(r: SourceRecord): void {
    const { state, reason, version } = this.statusOf(r);
    const shown = `${state}\n${reason}\n${version}`;
    if (shown !== r.shown) {
      r.shown = shown;
      r.since = new Date();
    }
  }

  private async stage(source: PluginSource): Promise<SourceRecord> {
    const r: SourceRecord = { source, staged: null, refusal: null, plugin: null, loaded: null, failure: null, blocked: null, since: new Date(), shown: '' };
    try {
      r.staged = await stagePlugin(source, this.workDir, {
        serverVersion: this.server.version,
        maxArchiveBytes: this.server.core.pluginsMaxArchiveBytes.value,
      });
    } catch (err) {
      r.refusal = err instanceof PluginRefusal ? err.message : `cannot read it: ${message(err)}`;
      this.log.warn('plugin refused', { file: source.file, reason: r.refusal });
    }
    return r;
  }

  private loadedApi(name: string): { loaded: boolean; api: unknown } {
    const r = this.loadOrder.find((x) => x.staged!.manifest.name === name);
    return r ? { loaded: true, api: r.loaded!.api } : { loaded: false, api: undefined };
  }

  private async load(r: SourceRecord): Promise<void> {
    const { manifest, dir } = r.staged!;
    const started = Date.now();
    let ctx: PluginContext | null = null;
    try {
      r.plugin ??= await importPlugin(r.staged!);
      if (manifest.migrations) {
        await migrate(this.server.storage.knex, { component: manifest.name, dir: join(dir, manifest.migrations) }, this.log.child(`plugin:${manifest.name}`));
      }
      ctx = new PluginContext(manifest, dir, { ...moduleServicesOf(this.server), apiOf: () => undefined }, {
        adminRoutes: this.adminRoutes,
        publicRoutes: this.publicRoutes,
        adminPages: this.adminPages,
        cluster: this.cluster,
        pluginApiOf: (name) => this.loadedApi(name).api,
        health: this.server.health,
        secrets: this.server.storage.secrets,
        database: this.server.storage.knex,
        nodeCluster: this.server.config.cluster,
        atServerStart: this.starting,
      });
      ctx.defineDeclaredProperties();
      const loading = Promise.resolve().then(() => r.plugin!.load(ctx!));
      const api = await withTimeout(loading, this.loadTimeoutMs, 'load()').catch((err: unknown) => {
        // Whatever a late load() still registers is undone when it finally settles.
        const late = ctx!;
        void loading.then(() => late.unload(), () => late.unload());
        throw err;
      });
      r.loaded = { ctx, api };
      this.loadOrder.push(r);
      this.log.info('plugin loaded', { name: manifest.name, version: manifest.version, file: r.source.file, kind: manifest.kind, ms: Date.now() - started });
    } catch (err) {
      if (ctx) await withTimeout(ctx.unload(), UNLOAD_TIMEOUT_MS, 'unload').catch(() => undefined);
      r.failure = message(err);
      this.log.error('plugin failed to load', { name: manifest.name, version: manifest.version, file: r.source.file, reason: r.failure, error: err instanceof Error ? err.stack : undefined });
    }
  }

  private async unload(r: SourceRecord): Promise<void> {
    const loaded = r.loaded!;
    const { name, version } = r.staged!.manifest;
    r.loaded = null;
    this.loadOrder = this.loadOrder.filter((x) => x !== r);
    try {
      await withTimeout(loaded.ctx.unload(), UNLOAD_TIMEOUT_MS, 'unload');
      this.log.info('plugin unloaded', { name, version, file: r.source.file });
    } catch (err) {
      this.log.warn('plugin did not unload cleanly', { name, version, error: message(err) });
    }
  }

  /** What `xmppd plugin list` shows while this server runs. */
  private async writeStatus(): Promise<void> {
    const status: StatusFile = { pid: process.pid, node: this.server.config.nodeId, updatedAt: new Date().toISOString(), plugins: this.status() };
    const file = join(this.workDir, STATUS_FILE);
    try {
      await writeFile(`${file}.tmp`, JSON.stringify(status, null, 2) + '\n');
      await rename(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn('cannot write the plugin status file', { file, error: message(err) });
    }
  }
}
