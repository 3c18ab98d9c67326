// The deployment files stay true to the tree they deploy: systemd accepts the unit, and the
// container image copies files that exist and asks for the Node.js that package.json does.
// (No container engine runs here: docs/operations.md says what was and was not checked.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/server-process.ts';

const UNIT = join(ROOT, 'conf', 'systemd', 'xmppd.service');
const CONTAINERFILE = join(ROOT, 'conf', 'container', 'Containerfile');

test('systemd-analyze verify accepts the unit, which runs bin/xmppd.js start from the install layout', (t) => {
  const unit = readFileSync(UNIT, 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/xmppd\/bin\/xmppd\.js start$/m);
  assert.match(unit, /^Environment=XMPPD_CONFIG=\/etc\/xmppd\/xmppd\.yml$/m);
  assert.match(unit, /^StateDirectory=xmppd$/m);
  assert.match(unit, /^RestartPreventExitStatus=2$/m, 'a configuration mistake (exit 2) is not restarted');
  assert.ok(existsSync(join(ROOT, 'bin', 'xmppd.js')));
  const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
  if (verify.error && (verify.error as NodeJS.ErrnoException).code === 'ENOENT') {
    t.skip('systemd-analyze is not installed');
    return;
  }
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', 'no warnings');
});

test('the Containerfile copies files that exist and checks the Node.js version package.json asks for', () => {
  const file = readFileSync(CONTAINERFILE, 'utf8');
  const copied = [...file.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
  assert.ok(copied.length > 5, 'COPY lines found');
  for (const path of copied) assert.ok(existsSync(join(ROOT, path)), `${path} is in the repository`);
  // What `npm ci` runs (the prepare script) must be there before it runs.
  const beforeInstall = file.slice(0, file.indexOf('RUN npm ci'));
  const prepare = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { prepare: string } }).scripts.prepare;
  for (const script of prepare.match(/scripts\/[\w-]+\.ts/g)!) assert.match(beforeInstall, /^COPY scripts /m, script);
  assert.match(beforeInstall, /^COPY admin-ui /m);
  assert.match(beforeInstall, /^COPY plugins /m);
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  assert.equal(engines, '>=20.20');
  assert.match(file, /a<20\|\|\(a===20&&b<20\)/, 'the build refuses a Node.js older than package.json allows');
  assert.match(file, /^ENTRYPOINT \["node", "\/opt\/xmppd\/bin\/xmppd\.js"\]$/m);
  assert.match(file, /^USER xmppd$/m);
});
