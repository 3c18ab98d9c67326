import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliSandbox } from './run-cli.ts';

test('property set, get, list, unset', async () => {
  const box = cliSandbox();
  try {
    const set = await box.run('property', 'set', 'xmpp.offline.max-per-user', '250');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'xmpp.offline.max-per-user = 250\n');
    assert.deepEqual(await box.run('property', 'get', 'xmpp.offline.max-per-user'), { code: 0, stdout: '250\n', stderr: '' });

    const list = await box.run('property', 'list');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +VALUE +DEFAULT +APPLIES +DESCRIPTION$/);
    assert.match(list.stdout, /^xmpp\.offline\.max-per-user +250 +100 +live +Messages kept for a user who is offline/m);
    assert.match(list.stdout, /^xmpp\.auth\.scram\.iterations +4096 +4096 +live +PBKDF2 iterations/m);
    assert.match(list.stdout, /^xmpp\.register\.inband\.enabled +false +false +live /m);

    const unset = await box.run('property', 'unset', 'xmpp.offline.max-per-user');
    assert.deepEqual(unset, { code: 0, stdout: 'xmpp.offline.max-per-user unset: its default 100 applies\n', stderr: '' });
    assert.equal((await box.run('property', 'get', 'xmpp.offline.max-per-user')).stdout, '100\n');
  } finally {
    box.remove();
  }
});

test('a value out of bounds or of the wrong type is refused with exit 2, naming the bound', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('migrate')).code, 0);
    const cases: [string, string, string][] = [
      ['xmpp.offline.max-per-user', '100000000', 'xmppd: property xmpp.offline.max-per-user: 100000000 is above the maximum 100000\n'],
      ['xmpp.auth.scram.iterations', '10', 'xmppd: property xmpp.auth.scram.iterations: 10 is below the minimum 4096\n'],
      ['xmpp.register.inband.enabled', 'yes', 'xmppd: property xmpp.register.inband.enabled: "yes" is not true or false\n'],
      ['xmpp.c2s.negotiation-timeout', '-1', 'xmppd: property xmpp.c2s.negotiation-timeout: -1 is below the minimum 1\n'],
    ];
    for (const [name, value, stderr] of cases) {
      assert.deepEqual(await box.run('property', 'set', name, value), { code: 2, stdout: '', stderr }, `${name} ${value}`);
    }
    assert.equal((await box.run('property', 'get', 'xmpp.offline.max-per-user')).stdout, '100\n', 'nothing stored');
  } finally {
    box.remove();
  }
});

test('an unknown name needs --force; once stored it is listed and can be changed and unset', async () => {
  const box = cliSandbox();
  try {
    assert.equal((await box.run('migrate')).code, 0);
    const typo = await box.run('property', 'set', 'xmpp.ofline.max-per-user', '5');
    assert.equal(typo.code, 1);
    assert.equal(typo.stderr, "xmppd: unknown property 'xmpp.ofline.max-per-user' (add --force to store it anyway, e.g. for a plugin not loaded here)\n");

    assert.equal((await box.run('property', 'set', 'myplugin.limit', '5', '--force')).code, 0);
    assert.equal((await box.run('property', 'set', 'myplugin.limit', '6')).code, 0, 'a stored name needs no --force');
    assert.equal((await box.run('property', 'get', 'myplugin.limit')).stdout, '6\n');
    assert.match((await box.run('property', 'list')).stdout, /^myplugin\.limit +6 +- +\? +\(stored, not defined here/m);
    assert.equal((await box.run('property', 'unset', 'myplugin.limit')).stdout, 'myplugin.limit unset: it is gone\n');

    const gone = await box.run('property', 'get', 'myplugin.limit');
    assert.deepEqual(gone, { code: 1, stdout: '', stderr: "xmppd: unknown property 'myplugin.limit'\n" });
  } finally {
    box.remove();
  }
});
