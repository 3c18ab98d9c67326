// This server as an operator runs it: `node bin/xmppd.js start` configured by XMPPD_*
// variables, on the embedded SQLite database, pinned to one CPU. Accounts are written
// beforehand through the storage repositories (no PBKDF2 per account: a pool of key sets,
// each with its own salt, is shared round-robin; a login costs the server the same either way).
import { execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, setLogLevel } from '../../server/log.ts';
import { openStorage } from '../../server/storage/database.ts';
import { progress } from '../load/progress.ts';
import { writeBenchAccounts } from '../lib/accounts.ts';
import { waitForPort } from '../lib/net-utils.ts';
import { serverEnv } from '../lib/server-env.ts';
import { stopProcess } from '../../test/helpers/processes.ts';
import { makeWorkDir, removeWorkDir } from '../lib/work-dir.ts';
import type { Target, TargetOptions } from './target.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'xmppd.js');

export interface XmppdOptions extends TargetOptions {
  /** Remember verified PLAIN passwords (the server's default); off makes every PLAIN login a PBKDF2. */
  plainCache: boolean;
  /** Write a V8 CPU profile of the server here when it stops. */
  cpuProfileDir?: string;
  /** A MariaDB/MySQL database (URL) the caller made, instead of the embedded SQLite file. */
  databaseUrl?: string;
  /** System properties set before the server starts, after the bench's own. */
  properties?: Record<string, string>;
}

async function createUsers(url: string, count: number): Promise<void> {
  setLogLevel('warn'); // this process's storage logs (migrations) are not the benchmark's
  const config = url.startsWith('sqlite:') ? { type: 'sqlite' as const, path: url.slice('sqlite:'.length) } : { type: 'mysql' as const, url };
  const storage = await openStorage(config, new Logger('bench'), { migrate: true });
  try {
    // WAL with synchronous=NORMAL: sequential inserts cost no fsync each.
    await writeBenchAccounts(storage, count);
  } finally {
    await storage.close();
  }
}

export interface XmppdTarget extends Target {
  /** `xmppd property set` on the server's database; the server applies it within ~2 s. */
  setProperty(name: string, value: string): void;
}

export async function startXmppd(opts: XmppdOptions): Promise<XmppdTarget> {
  const dir = makeWorkDir('xmppd');
  const databaseUrl = opts.databaseUrl ?? `sqlite:${join(dir, 'xmppd.sqlite')}`;
  const { env, ports: { c2s } } = await serverEnv({
    dataDir: join(dir, 'data'), databaseUrl, pluginsDir: join(dir, 'plugins'), logLevel: 'info',
  });

  const t0 = performance.now();
  await createUsers(databaseUrl, opts.users);
  progress('xmppd', `${opts.users} accounts created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const setProperty = (name: string, value: string): void => {
    execFileSync(process.execPath, [BIN, 'property', 'set', name, value], { env, cwd: ROOT, stdio: 'pipe' });
  };
  setProperty('xmpp.c2s.max-connections-per-ip', '0');
  // Measured with shapers off, as the peers are (shared/design.md).
  setProperty('xmpp.c2s.shaper.rate', '0');
  if (!opts.plainCache) setProperty('xmpp.auth.plain.cache-size', '0');
  // Archiving every message (the server's default) is measured on its own, bench/mam.ts:
  // neither peer archives in this bench (no mod_mam), so neither does this server.
  setProperty('xmpp.mam.default', 'never');
  for (const [name, value] of Object.entries(opts.properties ?? {})) setProperty(name, value);

  const logFile = join(dir, 'xmppd.log');
  const log = openSync(logFile, 'a');
  const nodeArgs = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const proc = spawn('taskset', ['-c', String(opts.cpu), process.execPath, ...nodeArgs, BIN, 'start'], {
    cwd: ROOT, env, stdio: ['ignore', log, log],
  });
  try {
    await waitForPort('127.0.0.1', c2s, 60_000, () => proc.exitCode === null);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
  }

  return {
    name: 'xmppd',
    endpoint: { host: '127.0.0.1', port: c2s, domain: 'localhost' },
    // taskset execs node: the pid is the server's own.
    pids: [proc.pid!],
    mechanisms: ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'],
    logFile,
    setProperty,
    async stop() {
      await stopProcess(proc, 15_000);
      removeWorkDir(dir);
    },
  };
}
