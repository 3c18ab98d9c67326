// The real `xmppd` commands record each change in <data_dir>/audit.log: what, on what, how
// it ended and who ran it (the OS user, and the one behind sudo); never a password. A
// change that cannot be recorded is not made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { exampleArchive } from '../plugins/fixtures.ts';
import { cliSandbox, runCli } from './run-cli.ts';

test('every change made with xmppd is one line of the audit log, with who made it', async () => {
  const box = cliSandbox();
  try {
    const run = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--config', box.config], { env });
    assert.equal((await run(['user', 'add', 'alice', 'pa55word'])).code, 0);
    assert.equal((await run(['user', 'passwd', 'alice', '-'])).code, 2, 'an empty password is refused before anything: not a change');
    assert.equal((await runCli(['user', 'passwd', 'alice', '-', '--config', box.config], { input: 'n3w-secret\n', env: { SUDO_USER: 'carol' } })).code, 0);
    assert.equal((await run(['property', 'set', 'xmpp.offline.max-per-user', '250'])).code, 0);
    assert.equal((await run(['property', 'unset', 'xmpp.offline.max-per-user'])).code, 0);
    writeFileSync(join(box.dir, 'example.tgz'), await exampleArchive());
    assert.equal((await run(['plugin', 'install', join(box.dir, 'example.tgz')])).code, 0);
    assert.equal((await run(['plugin', 'remove', 'example'])).code, 0);
    assert.equal((await run(['user', 'del', 'nobody'])).code, 1);
    assert.equal((await run(['user', 'del', 'alice'])).code, 0);
    assert.equal((await run(['user', 'list'])).code, 0, 'reading changes nothing');

    const log = readFileSync(join(box.dir, 'data', 'audit.log'), 'utf8');
    assert.doesNotMatch(log, /pa55word|n3w-secret/);
    const me = userInfo().username;
    const lines = log.trimEnd().split('\n').map((l) => l.replace(/^\S+ /, '').replace(/ pid=\d+$/, ''));
    const uid = process.getuid!();
    assert.deepEqual(lines, [
      `command="user add" user=alice@example.org result=done by=${me} uid=${uid}`,
      `command="user passwd" user=alice@example.org result=done by=${me} uid=${uid} sudo_user=carol`,
      `command="property set" property=xmpp.offline.max-per-user value=250 result=done by=${me} uid=${uid}`,
      `command="property unset" property=xmpp.offline.max-per-user was_set=true result=done by=${me} uid=${uid}`,
      `command="plugin install" file=${join(box.dir, 'example.tgz')} plugin="example 1.0.0" result=done by=${me} uid=${uid}`,
      `command="plugin remove" plugin=example files=example.tgz result=done by=${me} uid=${uid}`,
      `command="user del" user=nobody@example.org result=failed error="unknown user 'nobody@example.org'" by=${me} uid=${uid}`,
      `command="user del" user=alice@example.org finished_by=pending result=done by=${me} uid=${uid}`,
    ]);
    for (const l of log.trimEnd().split('\n')) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z command=/);
  } finally {
    box.remove();
  }
});

test('a change that cannot be recorded is refused, and nothing is changed', async () => {
  const box = cliSandbox();
  try {
    mkdirSync(join(box.dir, 'data', 'audit.log'), { recursive: true });
    const r = await box.run('user', 'add', 'alice', 'secret');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^xmppd: cannot write the audit log .*audit\.log \(EISDIR\): run the command as the server's user, or let it write there; nothing was changed\n$/);
    rmSync(join(box.dir, 'data', 'audit.log'), { recursive: true });
    assert.equal((await box.run('user', 'list')).stdout, '', 'alice was not created');
  } finally {
    box.remove();
  }
});
