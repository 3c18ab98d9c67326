// xmppd muc against a real running server: the command asks the node's admin listener, as an
// administrator, and the users in a room hear of what it does (a changed option, a destroy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { NS_MUC_USER, SERVICE, enter, presenceOf, startAdminTrio, statuses } from '../helpers/muc-client.ts';
import { ADMIN_USER } from '../plugins/fixtures.ts';
import { cliSandbox, runCli, type CliSandbox } from './run-cli.ts';

let server: TestServer;
let box: CliSandbox;
let alice: RawClient;
let bob: RawClient;
let carol: RawClient;

before(async () => {
  ({ server, trio: [alice, bob, carol] } = await startAdminTrio());
  box = cliSandbox(undefined, 'localhost');
});

after(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
  box?.remove();
});

const credentials = { XMPPD_ADMIN_JID: ADMIN_USER[0], XMPPD_ADMIN_PASSWORD: ADMIN_USER[1] };
const muc = (args: string[], env: Record<string, string> = credentials) =>
  runCli(['muc', ...args, '--config', box.config], { env: { XMPPD_ADMIN_PORT: String(server.adminPort), ...env } });

test('muc create makes a persistent room; list and show describe it with its occupants', async () => {
  const created = await muc(['create', 'team', 'alice@localhost', 'roomname=The team', 'maxusers=30', 'publicroom=0']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stderr, new RegExp(`created team@${SERVICE}, owned by alice@localhost`));
  await enter(alice, 'team', 'Alice');
  await enter(bob, 'team', 'Bob');

  const listed = await muc(['list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^ROOM\s+NAME\s+OCCUPANTS\s+KIND\s+LISTED\s+CREATED/);
  assert.match(listed.stdout, new RegExp(`team@${SERVICE}\\s+The team\\s+2\\s+persistent\\s+hidden`));

  const shown = await muc(['show', 'team']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^ {2}maxusers=30$/m);
  assert.match(shown.stdout, /^ {2}alice@localhost\s+owner/m);
  assert.match(shown.stdout, /^ {2}Bob\s+participant\s+none\s+bob@localhost\/b$/m);
  // Changes made with the command are in the audit trail of the machine.
  assert.match(readFileSync(join(box.dir, 'data', 'audit.log'), 'utf8'), /command="muc create" room=team owner=alice@localhost result=done/);
});

test('muc set changes an option, and occupants hear of it (104)', async () => {
  const told = bob.expect((el) => el.name === 'message' && el.attrs.from === `team@${SERVICE}` && statuses(el).includes('104'));
  const set = await muc(['set', 'team', 'roomdesc=Where the team talks']);
  assert.equal(set.code, 0, set.stderr);
  await told;
  assert.match((await muc(['show', 'team'])).stdout, /roomdesc=Where the team talks/);
});

test('bad input: exit 2 for the command line, 1 with the server\'s reason for what it refuses', async () => {
  const noAdmin = await muc(['list'], {});
  assert.equal(noAdmin.code, 2);
  assert.match(noAdmin.stderr, /XMPPD_ADMIN_JID/);
  const wrongPassword = await muc(['list'], { ...credentials, XMPPD_ADMIN_PASSWORD: 'nope' });
  assert.equal(wrongPassword.code, 1);
  assert.match(wrongPassword.stderr, /401: wrong JID or password/);
  assert.equal((await muc(['create', 'x'])).code, 2);
  assert.equal((await muc(['create', 'x', 'bob@localhost', 'roomname'])).code, 2);
  assert.equal((await muc(['frobnicate'])).code, 2);
  const exists = await muc(['create', 'team', 'bob@localhost']);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /409: room team@conference\.localhost exists/);
  const badOption = await muc(['set', 'team', 'colour=red']);
  assert.equal(badOption.code, 1);
  assert.match(badOption.stderr, /400: no room option 'colour'/);
  const badValue = await muc(['set', 'team', 'maxusers=many']);
  assert.match(badValue.stderr, /maxusers must be a whole number/);
  const missing = await muc(['show', 'nowhere']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /404: no room nowhere@conference\.localhost/);
  assert.equal((await muc(['destroy', 'team', 'colour=red'])).code, 2);
});

test('muc destroy tells the occupants why and where to go, and the room is gone', async () => {
  const told = presenceOf(bob, 'team', 'Bob', 'unavailable');
  const destroyed = await muc(['destroy', 'team', 'reason=Moving to the hall', `alternate=hall@${SERVICE}`]);
  assert.equal(destroyed.code, 0, destroyed.stderr);
  const destroy = (await told).getChild('x', NS_MUC_USER)!.getChild('destroy')!;
  assert.deepEqual([destroy.attrs.jid, destroy.getChildText('reason')], [`hall@${SERVICE}`, 'Moving to the hall']);
  const listed = await muc(['list']);
  assert.equal(listed.code, 0);
  assert.equal(listed.stdout, '');
  assert.match(listed.stderr, /no rooms/);
});
