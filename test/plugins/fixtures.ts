// Plugins made up for tests: folders and archives with a given manifest and code, hostile
// archives, the example plugin in its two versions, and a ServerContext with just what the
// plugin host uses (real event bus, disco registry and properties over a real database).
import { ModuleMetrics } from '../../server/extension/module-metrics.ts';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AccountDeletions } from '../../server/accounts/account-deletions.ts';
import { EventBus } from '../../server/events/event-bus.ts';
import { Logger } from '../../server/log.ts';
import { DiscoRegistry } from '../../server/extension/disco-registry.ts';
import type { StreamFeatureProvider } from '../../server/extension/module-context.ts';
import { DependencyMonitor } from '../../server/health/dependency-monitor.ts';
import { StandaloneClusterManager } from '../../server/cluster/cluster-manager.ts';
import { createKernel } from '../../server/extension/kernel-facade.ts';
import { LocalRoutingTable } from '../../server/routing/routing-table.ts';
import { Router } from '../../server/routing/router.ts';
import { SessionManager } from '../../server/session/session-manager.ts';
import type { ServerContext } from '../../server/server-context.ts';
import { packPlugin } from '../../server/plugins/plugin-pack.ts';
import { writeTar, type TarInput } from '../../server/plugins/tar.ts';
import { defineKnownProperties } from '../../server/known-properties.ts';
import { PropertyRegistry } from '../../server/properties/property-registry.ts';
import type { Storage } from '../../server/storage/types.ts';
import { SERVER_VERSION } from '../../server/version.ts';

export const EXAMPLE_DIR = fileURLToPath(new URL('../../plugins/example/', import.meta.url));

export interface FakePlugin {
  name: string;
  version?: string;
  kind?: 'feature' | 'cluster';
  dependencies?: Record<string, string>;
  /** Body of load(ctx); `ctx` is in scope. */
  load?: string;
  /** Top-level code of index.js before the export. */
  prelude?: string;
  manifest?: Record<string, unknown>;
  /** Other files, by path. */
  files?: Record<string, string>;
}

export function manifestOf(p: FakePlugin): Record<string, unknown> {
  return { name: p.name, version: p.version ?? '1.0.0', kind: p.kind ?? 'feature', dependencies: p.dependencies ?? {}, ...p.manifest };
}

export function filesOf(p: FakePlugin): Record<string, string> {
  const code = `${p.prelude ?? ''}\nexport default { async load(ctx) {\n${p.load ?? ''}\n} };\n`;
  return { 'plugin.json': JSON.stringify(manifestOf(p)), 'index.js': code, ...p.files };
}

/** Writes a plugin folder under `root`; returns its path. */
export function writePluginFolder(root: string, p: FakePlugin, folder = p.name): string {
  const dir = join(root, folder);
  for (const [path, text] of Object.entries(filesOf(p))) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A .tgz of the given tar entries (anything, hostile ones included). */
export function tgz(entries: TarInput[]): Buffer {
  return gzipSync(writeTar(entries));
}

export function pluginArchive(p: FakePlugin, extra: TarInput[] = []): Buffer {
  return tgz([...Object.entries(filesOf(p)).map(([path, data]) => ({ path, data })), ...extra]);
}

/** The example plugin packed as `npm run build` packs it, as version 1 or as a version 2 whose echo shouts. */
export async function exampleArchive(version: 1 | 2 = 1): Promise<Buffer> {
  const packed = await packPlugin(EXAMPLE_DIR, {
    serverVersion: SERVER_VERSION,
    transform: version === 1 ? undefined : (path, data) => {
      let text = data.toString();
      if (path === 'plugin.json') text = JSON.stringify({ ...JSON.parse(text), version: '2.0.0' });
      if (path === 'index.js') {
        const v2 = text.replace('const transform = (text) => text;', 'const transform = (text) => text.toUpperCase();');
        if (v2 === text) throw new Error('the example plugin changed: update exampleArchive() in test/plugins/fixtures.ts');
        text = v2;
      }
      return Buffer.from(text);
    },
  });
  return packed.archive;
}

const quiet = new Logger('test');

/** A ServerContext with what plugins and the host use; properties are stored in `storage`. */
export async function fakeServer(storage: Storage): Promise<ServerContext> {
  const properties = new PropertyRegistry(storage.properties, quiet);
  const core = defineKnownProperties(properties);
  await properties.load();
  const events = new EventBus();
  const sessions = new SessionManager('test-node', new LocalRoutingTable(), events, quiet);
  const cluster = new StandaloneClusterManager('test-node');
  const router = new Router('localhost', events, sessions, cluster, quiet);
  const accounts = new AccountDeletions({ storage, nodeId: 'test-node', domain: 'localhost', sessions, cluster: () => cluster, properties, adminJids: core.adminJids, log: quiet });
  return {
    kernel: createKernel({ version: SERVER_VERSION, nodeId: 'test-node', plaintextAuthAllowed: true, router, sessions, events, cluster: () => cluster, accounts }),
    accounts,
    domain: 'localhost',
    version: SERVER_VERSION,
    config: { nodeId: 'test-node' },
    log: quiet,
    events,
    sessions,
    router,
    storage,
    properties,
    core,
    disco: new DiscoRegistry(),
    health: new DependencyMonitor(quiet, { intervalMs: () => 60_000, timeoutMs: 1_000 }),
    streamFeatures: new Set<StreamFeatureProvider>(),
    moduleMetrics: new ModuleMetrics(),
  } as unknown as ServerContext;
}

/** Puts a file in place the way an installer should: written aside, then renamed. */
export function dropFile(dir: string, name: string, data: Buffer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.partial`), data);
  renameSync(join(dir, `.${name}.partial`), join(dir, name));
}

/** Polls until `check` returns something truthy; returns it, or throws after `ms`. */
export async function waitFor<T>(check: () => Promise<T> | T, ms: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface AdminResponse {
  status: number;
  /** The parsed JSON body. */
  body: any;
  headers: Headers;
}

/** One request to a server's admin API, as `user` (HTTP Basic) unless `headers` say otherwise. */
export async function admin(port: number, method: string, path: string, options: {
  user?: [string, string] | null;
  json?: unknown;
  archive?: Buffer;
  headers?: Record<string, string>;
} = {}): Promise<AdminResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const user = options.user === undefined ? ADMIN_USER : options.user;
  if (user) headers.authorization = `Basic ${Buffer.from(`${user[0]}:${user[1]}`).toString('base64')}`;
  let body: string | ArrayBuffer | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.archive) {
    headers['content-type'] = 'application/gzip';
    const a = options.archive;
    body = a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength) as ArrayBuffer;
  }
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** The administrator the integration tests create (see ADMIN_PROPERTIES). */
export const ADMIN_USER: [string, string] = ['admin@localhost', 'admin-secret'];
/** Properties that make `admin` the administrator and keep failed logins fast. */
export const ADMIN_PROPERTIES = { 'admin.jids': 'admin@localhost', 'xmpp.auth.failure-delay': '0' };
