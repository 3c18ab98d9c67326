// Prosody from Debian (`apt-get install prosody`), run in the foreground from a scratch
// directory with its own configuration: the module list of Debian's default prosody.cfg.lua,
// minus server-to-server and the bandwidth limits ("shapers off"), on free ports, pinned to
// one CPU. Accounts are written as internal_hashed account files (SCRAM-SHA-1 keys, 4096
// iterations like the other servers; Prosody's own default for new accounts is 10000).
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveScramKeys, DEFAULT_SCRAM_ITERATIONS } from '../../server/auth/scram-keys.ts';
import { progress } from '../load/progress.ts';
import { BENCH_PASSWORD, benchUser } from '../load/users.ts';
import { freePort, waitForPort } from '../lib/net-utils.ts';
import { stopProcess } from '../../test/helpers/processes.ts';
import { selfSignedCertificate } from './certificate.ts';
import { makeWorkDir, removeWorkDir } from '../lib/work-dir.ts';
import type { Target, TargetOptions } from './target.ts';

const KEY_SETS = 64;

/** Debian's default modules_enabled, less "limits" (shapers off) and "dialback" (no s2s). */
const MODULES = [
  'disco', 'roster', 'saslauth', 'tls', 'blocklist', 'bookmarks', 'carbons', 'pep', 'private', 'smacks',
  'vcard4', 'vcard_legacy', 'csi_simple', 'invites', 'invites_adhoc', 'invites_register', 'ping', 'register',
  'time', 'uptime', 'version', 'admin_adhoc', 'posix',
];

export function prosodyVersion(): string | null {
  try {
    return /^Version:\s*(\S+)/m.exec(execFileSync('dpkg', ['-s', 'prosody'], { encoding: 'utf8' }))?.[1] ?? null;
  } catch {
    return null;
  }
}

const hex = (base64: string): string => Buffer.from(base64, 'base64').toString('hex');
const luaString = (s: string): string => JSON.stringify(s);

async function writeAccounts(dataDir: string, count: number): Promise<void> {
  const dir = join(dataDir, 'localhost', 'accounts');
  mkdirSync(dir, { recursive: true });
  const sets = await Promise.all(Array.from({ length: Math.min(KEY_SETS, count) }, async () => {
    const salt = randomUUID(); // Prosody's salts are UUID strings, used as raw bytes
    return { salt, keys: await deriveScramKeys(BENCH_PASSWORD, 'sha1', DEFAULT_SCRAM_ITERATIONS, Buffer.from(salt)) };
  }));
  for (let i = 0; i < count; i++) {
    const { salt, keys } = sets[i % sets.length]!;
    writeFileSync(join(dir, `${benchUser(i)}.dat`), `return {
\t["iteration_count"] = ${keys.iterations};
\t["salt"] = ${luaString(salt)};
\t["stored_key"] = ${luaString(hex(keys.storedKey))};
\t["server_key"] = ${luaString(hex(keys.serverKey))};
};
`);
  }
}

export async function startProsody(opts: TargetOptions): Promise<Target> {
  const version = prosodyVersion();
  if (!version) throw new Error('prosody is not installed (apt-get install prosody)');
  const dir = makeWorkDir('prosody');
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const cert = selfSignedCertificate(dir);
  await writeAccounts(dataDir, opts.users);
  progress('prosody', `${opts.users} account files written`);
  const logFile = join(dir, 'prosody.log');
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(config, `-- Written by bench/targets/prosody.ts
run_as_root = true
pidfile = ${luaString(join(dir, 'prosody.pid'))}
data_path = ${luaString(dataDir)}
admins = { }
modules_enabled = { ${MODULES.map(luaString).join('; ')} }
modules_disabled = { "s2s" }
c2s_ports = { ${port} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }
authentication = "internal_hashed"
allow_unencrypted_plain_auth = true
c2s_require_encryption = false
log = { info = ${luaString(logFile)} }
ssl = { certificate = ${luaString(cert.certFile)}, key = ${luaString(cert.keyFile)} }
VirtualHost "localhost"
`);
  const out = openSync(join(dir, 'prosody.out'), 'a');
  const proc = spawn('taskset', ['-c', String(opts.cpu), 'prosody', '--config', config, '-F', '--root'], {
    cwd: dir, stdio: ['ignore', out, out],
  });
  try {
    await waitForPort('127.0.0.1', port, 30_000, () => proc.exitCode === null);
  } catch (err) {
    proc.kill('SIGKILL');
    const output = readFileSync(join(dir, 'prosody.out'), 'utf8');
    throw new Error(`prosody did not start: ${(err as Error).message}\n${output.slice(-2000)}`);
  }
  return {
    name: `prosody ${version}`,
    endpoint: { host: '127.0.0.1', port, domain: 'localhost' },
    // taskset execs the prosody script's interpreter: the pid is Prosody's own.
    pids: [proc.pid!],
    mechanisms: ['PLAIN', 'SCRAM-SHA-1'],
    logFile,
    async stop() {
      await stopProcess(proc, 15_000);
      removeWorkDir(dir);
    },
  };
}
