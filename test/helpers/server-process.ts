// Starts a real server process (bin/xmppd.js start) on free ports with a database of its
// own, as an operator would, so protocol tests exercise the real thing end to end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveUserKeys } from '../../server/auth/scram-keys.ts';
import type { DatabaseConfig } from '../../server/config/types.ts';
import { Logger } from '../../server/log.ts';
import { openStorage } from '../../server/storage/database.ts';
import type { Storage } from '../../server/storage/types.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';
import { freePort, stopProcess } from './processes.ts';

export { freePort } from './processes.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'xmppd.js');
const quiet = new Logger('test');

export type Dialect = 'sqlite' | 'mysql';

export interface TestServerOptions {
  dialect?: Dialect;
  /** System properties stored before the server starts. */
  properties?: Record<string, string>;
  /** Extra environment (XMPPD_* configuration overrides). */
  env?: Record<string, string>;
  /** Reuse a database (for restart tests); by default each server gets a fresh one. */
  database?: TestDatabase;
}

/** The XMPPD_DATABASE_URL form of a database configuration. */
export function databaseUrl(config: DatabaseConfig): string {
  return config.type === 'sqlite' ? `sqlite:${config.path}` : config.url;
}

export class TestServer {
  private proc: ChildProcess | null = null;
  private output = '';
  private storageHandle: Storage | null = null;

  constructor(
    readonly dialect: Dialect,
    readonly database: TestDatabase,
    readonly dataDir: string,
    readonly c2sPort: number,
    readonly c2sTlsPort: number,
    readonly httpPort: number,
    private readonly env: Record<string, string>,
    private readonly ownsDatabase: boolean,
    /** The admin API listener (127.0.0.1). */
    readonly adminPort: number,
  ) {}

  /** The folder the server watches for drop-in plugins. */
  get pluginsDir(): string {
    return this.env.XMPPD_PLUGINS_DIR!;
  }

  readonly domain = 'localhost';

  /** Storage opened by the test itself (users, properties) on the server's database. */
  async storage(): Promise<Storage> {
    this.storageHandle ??= await openStorage(this.database.config, quiet, { migrate: true });
    return this.storageHandle;
  }

  async addUser(name: string, password: string): Promise<void> {
    const storage = await this.storage();
    await storage.users.create(name, await deriveUserKeys(password, 4096));
  }

  /** Stores a property; a running server sees it within its polling interval (2 s). */
  async setProperty(name: string, value: string): Promise<void> {
    await (await this.storage()).properties.set(name, value);
  }

  logs(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the process and resolves once it listens. */
  async start(): Promise<void> {
    const proc = spawn(process.execPath, [BIN, 'start'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${this.output}`)), 30_000);
      // Only this run's output counts: after kill() the old output already says "serving".
      const from = this.output.length;
      const onData = (chunk: Buffer): void => {
        this.output += chunk.toString();
        if (this.output.indexOf('serving ', from) !== -1) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before listening:\n${this.output}`));
      });
    });
  }

  /** Kills the process without a clean shutdown (crash tests). */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  /** Stops the process gracefully and, unless the database was passed in, drops it. */
  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc, 10_000);
    this.proc = null;
    await this.storageHandle?.close();
    this.storageHandle = null;
    if (this.ownsDatabase) await this.database.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dialect = opts.dialect ?? 'sqlite';
  const database = opts.database ?? (await createTestDatabase(dialect));
  const dataDir = mkdtempSync(join(tmpdir(), 'xmppd-data-'));
  const [c2s, c2sTls, http, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: Record<string, string> = {
    XMPPD_DOMAIN: 'localhost',
    XMPPD_DATA_DIR: dataDir,
    XMPPD_DATABASE_URL: databaseUrl(database.config),
    XMPPD_C2S_HOST: '127.0.0.1',
    XMPPD_C2S_PORT: String(c2s),
    XMPPD_C2S_TLS_PORT: String(c2sTls),
    XMPPD_HTTP_PORT: String(http),
    XMPPD_ADMIN_HOST: '127.0.0.1',
    XMPPD_ADMIN_PORT: String(admin),
    XMPPD_ALLOW_PLAINTEXT_AUTH: 'true',
    XMPPD_REQUIRE_TLS: 'false',
    XMPPD_PLUGINS_DIR: join(dataDir, 'plugins'),
    // A test server runs only the plugins its test puts in (not the bundled clustering one).
    XMPPD_BUNDLED_PLUGINS: 'none',
    XMPPD_LOG_LEVEL: process.env.XMPPD_TEST_LOG_LEVEL ?? 'info',
    ...opts.env,
  };
  const server = new TestServer(dialect, database, dataDir, c2s, c2sTls, http, env, !opts.database, admin);
  // The file transfer proxy listens on a port of its own (7777): off unless the test wants it,
  // so that servers started side by side do not compete for it.
  const properties = { 'xmpp.proxy65.port': '0', ...opts.properties };
  for (const [k, v] of Object.entries(properties)) await server.setProperty(k, v);
  try {
    await server.start();
  } catch (err) {
    // A server that did not start is cleaned up here, its caller never getting it: the
    // storage opened for the properties above would otherwise keep the test process alive.
    await server.stop().catch(() => undefined);
    throw err;
  }
  return server;
}
