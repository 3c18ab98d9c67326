import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/server-process.ts';
import { cliSandbox, runCli } from './run-cli.ts';

const BIN = fileURLToPath(new URL('../../bin/xmppd.js', import.meta.url));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`start runs until ${signal}, then stops cleanly with exit 0`, async () => {
    const box = cliSandbox();
    try {
      const env = {
        PATH: process.env.PATH ?? '',
        XMPPD_C2S_HOST: '127.0.0.1',
        XMPPD_C2S_PORT: String(await freePort()),
        XMPPD_C2S_TLS_HOST: '127.0.0.1',
        XMPPD_C2S_TLS_PORT: String(await freePort()),
        XMPPD_HTTP_HOST: '127.0.0.1',
        XMPPD_HTTP_PORT: String(await freePort()),
      };
      const child = spawn(process.execPath, [BIN, 'start', '--config', box.config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const serving = new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('serving example.org')) resolve();
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited with ${code} before serving:\n${output}`)));
      });
      await serving;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = await exited;
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`stopping signal=${signal}`));
      assert.match(output, /\[main\] stopped/);
      // The first start made the plugins folder with the bundled clustering plugin only.
      assert.deepEqual(readdirSync(join(box.dir, 'plugins')), ['hazelcast.tgz']);
      assert.match(output, /installed a bundled plugin into the new plugins folder plugin=hazelcast/);
    } finally {
      box.remove();
    }
  });
}

test('start with an invalid configuration exits 2 without starting', async () => {
  const r = await runCli(['start'], { env: { XMPPD_DOMAIN: 'not a domain' } });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'xmppd: environment variable XMPPD_DOMAIN: domain: expected a domain name (RFC 7622 domainpart), got "not a domain"\n');
});

test('start on a port already taken exits 1 with one line, even if the failure left handles open', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const box = cliSandbox();
  try {
    const taken = (blocker.address() as net.AddressInfo).port;
    const r = await runCli(['start', '--config', box.config], {
      env: { XMPPD_LOG_LEVEL: 'error', XMPPD_C2S_HOST: '127.0.0.1', XMPPD_C2S_PORT: String(taken), XMPPD_C2S_TLS_PORT: '0', XMPPD_HTTP_PORT: '0' },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^xmppd: [^\\n]*in use[^\\n]*${taken}[^\\n]*\\n$`));
  } finally {
    box.remove();
    blocker.close();
  }
});

test('start on an unreachable database exits 1 with one error line naming it', async () => {
  const box = cliSandbox('mysql://root@127.0.0.1:1/x');
  try {
    const r = await runCli(['start', '--config', box.config], { env: { XMPPD_C2S_PORT: '0', XMPPD_C2S_TLS_PORT: '0', XMPPD_HTTP_PORT: '0', XMPPD_ADMIN_PORT: '0' } });
    assert.equal(r.code, 1);
    // The start announces itself at info; of what follows, one line says what went wrong.
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !/ INFO  /.test(l));
    assert.deepEqual(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^xmppd: cannot open the MySQL database mysql:\/\/root@127\.0\.0\.1:1\/x: connect ECONNREFUSED/);
  } finally {
    box.remove();
  }
});
