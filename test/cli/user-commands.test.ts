import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPassword } from '../../server/auth/scram-keys.ts';
import { Logger } from '../../server/log.ts';
import { openStorage } from '../../server/storage/database.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { cliSandbox, runCli } from './run-cli.ts';
import type { CliSandbox } from './run-cli.ts';

const quiet = new Logger('test');

async function keysOf(box: CliSandbox, databaseUrl: string | null, user: string) {
  const config = databaseUrl ? { type: 'mysql' as const, url: databaseUrl } : { type: 'sqlite' as const, path: `${box.dir}/data/xmppd.sqlite` };
  const storage = await openStorage(config, quiet);
  try {
    return await storage.users.get(user);
  } finally {
    await storage.close();
  }
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  test(`user add, list, passwd, del on a fresh ${dialect} database`, async () => {
    const db = dialect === 'mysql' ? await createTestDatabase('mysql') : null;
    const url = db && db.config.type === 'mysql' ? db.config.url : null;
    const box = cliSandbox(url ?? undefined);
    try {
      const added = await box.run('user', 'add', 'Bob', 's3cret');
      assert.equal(added.code, 0, added.stderr);
      assert.equal(added.stdout, 'created user bob@example.org\n');
      // The first command on an empty database creates the schema, and says so.
      assert.match(added.stderr, /^xmppd: the database is new: creating its schema/);

      const alice = await box.run('user', 'add', 'alice@example.org', 'pw');
      assert.equal(alice.code, 0, alice.stderr);
      assert.equal(alice.stderr, '', 'no schema note once the schema exists');

      const list = await box.run('user', 'list');
      assert.deepEqual(list, { code: 0, stdout: 'alice@example.org\nbob@example.org\n', stderr: '' });

      const before = await keysOf(box, url, 'bob');
      assert.ok(before && (await verifyPassword('s3cret', before.scramSha256, 'sha256')));
      assert.equal(before.scramSha1.iterations, 4096);

      const passwd = await box.run('user', 'passwd', 'bob', 'n3w');
      assert.deepEqual(passwd, { code: 0, stdout: 'changed the password of bob@example.org\n', stderr: '' });
      const after = await keysOf(box, url, 'bob');
      assert.ok(after && (await verifyPassword('n3w', after.scramSha1, 'sha1')));
      assert.equal(await verifyPassword('s3cret', after.scramSha1, 'sha1'), false);

      const del = await box.run('user', 'del', 'bob@example.org');
      // No server runs: the account is gone, and the command says what waits for a node.
      assert.equal(del.code, 0);
      assert.equal(del.stdout, 'deleted user bob@example.org\n');
      assert.match(del.stderr, /^xmppd: no running node has finished the deletion yet/);
      assert.equal((await box.run('user', 'list')).stdout, 'alice@example.org\n');
    } finally {
      box.remove();
      await db?.drop();
    }
  });
}

test('user errors: exit 1 for what cannot be done, 2 for a wrong command line', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('user', 'add', 'bob', 'pw')).code, 0);
    const cases: [string[], number, string][] = [
      [['user', 'add', 'bob', 'pw'], 1, "xmppd: user 'bob@example.org' already exists\n"],
      [['user', 'del', 'carol'], 1, "xmppd: unknown user 'carol@example.org'\n"],
      [['user', 'passwd', 'carol@example.org', 'pw'], 1, "xmppd: unknown user 'carol@example.org'\n"],
      [['user', 'add', 'b b', 'pw'], 2, "xmppd: invalid JID 'b b'\nRun 'xmppd --help' for usage.\n"],
      [['user', 'add', 'dave@other.org', 'pw'], 2, "xmppd: 'dave@other.org' is not on this server's domain example.org\nRun 'xmppd --help' for usage.\n"],
      [['user', 'add', 'dave@example.org/phone', 'pw'], 2, "xmppd: 'dave@example.org/phone' has a resource; give a bare JID like user@example.org\nRun 'xmppd --help' for usage.\n"],
      [['user', 'add', 'dave'], 2, "xmppd: missing arguments; usage: xmppd user add JID PASSWORD\nRun 'xmppd --help' for usage.\n"],
      [['user', 'del', 'a', 'b'], 2, "xmppd: too many arguments; usage: xmppd user del JID\nRun 'xmppd --help' for usage.\n"],
      [['user', 'add', 'dave', ''], 2, "xmppd: the password is empty\nRun 'xmppd --help' for usage.\n"],
      [['user', 'rename', 'x'], 2, "xmppd: unknown user command 'rename': add, passwd, del or list\nRun 'xmppd --help' for usage.\n"],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await box.run(...args);
      assert.deepEqual({ code: r.code, stderr: r.stderr, stdout: r.stdout }, { code, stderr, stdout: '' }, args.join(' '));
    }
    assert.equal((await box.run('user', 'list')).stdout, 'bob@example.org\n', 'nothing changed');
  } finally {
    box.remove();
  }
});

test('a password of - is read from standard input', async () => {
  const box = cliSandbox();
  try {
    const r = await runCli(['user', 'add', 'eve', '-', '--config', box.config], { input: 'from stdin\n' });
    assert.equal(r.code, 0, r.stderr);
    const keys = await keysOf(box, null, 'eve');
    assert.ok(keys && (await verifyPassword('from stdin', keys.scramSha256, 'sha256')));
  } finally {
    box.remove();
  }
});

test('new passwords use the iteration count of xmpp.auth.scram.iterations', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('property', 'set', 'xmpp.auth.scram.iterations', '5000')).code, 0);
    assert.equal((await box.run('user', 'add', 'frank', 'pw')).code, 0);
    const keys = await keysOf(box, null, 'frank');
    assert.equal(keys?.scramSha1.iterations, 5000);
    assert.equal(keys?.scramSha256.iterations, 5000);
  } finally {
    box.remove();
  }
});
