// Runs the real `xmppd` command as a child process, the way an operator does, against a
// configuration file of the test's own.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/xmppd.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without XMPPD_* variables, so only the test's configuration counts. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('XMPPD_')));
  return { ...env, ...extra };
}

export function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: cleanEnv(options.env ?? {}), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });
}

export interface CliSandbox {
  dir: string;
  /** The configuration file; pass it with --config. */
  config: string;
  /** Runs xmppd with --config added. */
  run(...args: string[]): Promise<CliResult>;
  remove(): void;
}

/**
 * A temporary folder with a configuration for domain example.org (or `domain`: a running
 * test server's is localhost) and the given database,
 * and a plugins folder of its own (empty): the checkout's plugins/ must not change what the
 * commands show.
 */
export function cliSandbox(databaseUrl?: string, domain = 'example.org'): CliSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-cli-'));
  const config = join(dir, 'xmppd.yml');
  writeFileSync(config, [
    `domain: ${domain}`,
    `data_dir: ${join(dir, 'data')}`,
    `plugins_dir: ${join(dir, 'plugins')}`,
    'database:',
    `  url: ${databaseUrl ?? `sqlite:${join(dir, 'data', 'xmppd.sqlite')}`}`,
    '',
  ].join('\n'));
  return {
    dir,
    config,
    run: (...args) => runCli([...args, '--config', config]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
