import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox, runCli } from './run-cli.ts';

test('help goes to stdout with exit 0', async () => {
  for (const args of [['--help'], ['help'], ['user', '-h']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /^usage: xmppd COMMAND \[--config FILE\]/);
    assert.match(r.stdout, /user add JID PASSWORD +create an account/);
    assert.match(r.stdout, /property set NAME VALUE/);
    assert.equal(r.stderr, '');
  }
});

test('a wrong command line is exit 2 with one line and a pointer to help', async () => {
  const cases: [string[], string][] = [
    [[], 'missing command'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['user', 'list', '--verbose'], 'unknown option --verbose (put -- before an argument that starts with -)'],
    [['user', 'list', '--config'], '--config needs a file name'],
    [['user', 'list', '--force'], '--force only applies to property set'],
    [['migrate', 'now'], 'too many arguments; usage: xmppd migrate'],
    [['property'], 'missing property command: list, get, set or unset'],
  ];
  for (const [args, message] of cases) {
    assert.deepEqual(await runCli(args), { code: 2, stdout: '', stderr: `xmppd: ${message}\nRun 'xmppd --help' for usage.\n` }, args.join(' '));
  }
});

test('a configuration mistake is exit 2 naming the file, key and expectation', async () => {
  const box = cliSandbox();
  try {
    writeFileSync(box.config, 'domain: example.org\nlisteners:\n  c2s:\n    port: abc\n');
    const r = await box.run('user', 'list');
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `xmppd: ${box.config}:4: listeners.c2s.port: expected an integer 0-65535, got "abc"\n` });
    const missing = await runCli(['user', 'list', '--config', join(box.dir, 'nope.yml')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `xmppd: ${join(box.dir, 'nope.yml')}: cannot read the configuration file: ENOENT\n`);
    const env = await runCli(['user', 'list', '--config', box.config.replace('xmppd.yml', 'none.yml')], { env: { XMPPD_C2S_PORT: 'x' } });
    assert.equal(env.code, 2);
  } finally {
    box.remove();
  }
});

test('--version and version print the version alone, needing no configuration', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const args of [['--version'], ['-V'], ['version']]) {
    // A configuration that would not load: the version must not depend on it.
    const r = await runCli(args, { env: { XMPPD_DOMAIN: 'not a domain' } });
    assert.deepEqual(r, { code: 0, stdout: `xmppd ${version}\n`, stderr: '' }, args.join(' '));
  }
  const extra = await runCli(['version', 'now']);
  assert.equal(extra.code, 2);
});
