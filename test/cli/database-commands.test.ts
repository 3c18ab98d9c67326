import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../../server/log.ts';
import { openStorage } from '../../server/storage/database.ts';
import { cliSandbox, runCli } from './run-cli.ts';

test('migrate applies the schema once, then finds nothing to do', async () => {
  const box = cliSandbox();
  try {
    const first = await box.run('migrate');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'database schema is up to date\n');
    assert.match(first.stderr, /^xmppd: applied migration component=core name=0001-core/m);

    const second = await box.run('migrate');
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /applied migration/);
    assert.match(second.stderr, /schema up to date/);
  } finally {
    box.remove();
  }
});

test('a database newer than the code is refused, not written to', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('migrate')).code, 0);
    const storage = await openStorage({ type: 'sqlite', path: `${box.dir}/data/xmppd.sqlite` }, new Logger('test'));
    await storage.knex('schema_migrations').insert({ component: 'core', name: '9999-future', applied_at: new Date() });
    await storage.close();
    const r = await box.run('user', 'add', 'bob', 'pw');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^xmppd: database schema is newer than this server \(unknown migration core\/9999-future\); upgrade the server\n$/);
  } finally {
    box.remove();
  }
});

test('an unreachable database is exit 1 with one line naming it, and no stack trace', async () => {
  const box = cliSandbox('mysql://root@127.0.0.1:1/x');
  try {
    for (const args of [['user', 'list'], ['property', 'list'], ['migrate']]) {
      const r = await box.run(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^xmppd: cannot open the MySQL database mysql:\/\/root@127\.0\.0\.1:1\/x: .*ECONNREFUSED/m);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
  } finally {
    box.remove();
  }
});

test('the database URL can come from the environment', async () => {
  const box = cliSandbox('mysql://root@127.0.0.1:1/x');
  try {
    const r = await runCli(['user', 'list', '--config', box.config], { env: { XMPPD_DATABASE_URL: `sqlite:${box.dir}/env.sqlite` } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`creating its schema \\(${box.dir}/env.sqlite\\)`));
  } finally {
    box.remove();
  }
});
