// System properties live in the shared database: a change made on one server process (or by
// the CLI, a third process) reaches another process on the same MariaDB within seconds,
// without any clustering, and takes effect there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../cli/run-cli.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { databaseUrl, startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { admin, ADMIN_PROPERTIES, ADMIN_USER, waitFor } from './fixtures.ts';

/** Polling is every 2 s; a few seconds is what "within seconds" promises. */
const PROPAGATION_MS = 5_000;

async function registrationOffered(server: TestServer): Promise<boolean> {
  const client = await RawClient.connect(server.c2sPort);
  try {
    const features = await client.open();
    return !!features.getChild('register', 'http://jabber.org/features/iq-register');
  } finally {
    client.destroy();
  }
}

test('a property set on one process is seen and applied by another sharing the MariaDB database', async () => {
  const database = await createTestDatabase('mysql');
  const servers: TestServer[] = [];
  try {
    servers.push(await startTestServer({ dialect: 'mysql', database, properties: ADMIN_PROPERTIES }));
    servers.push(await startTestServer({ dialect: 'mysql', database }));
    const [a, b] = servers as [TestServer, TestServer];
    await a.addUser('admin', ADMIN_USER[1]);
    assert.equal(await registrationOffered(b), false);

    const started = Date.now();
    const set = await admin(a.adminPort, 'PUT', '/api/properties/xmpp.register.inband.enabled', { json: { value: true } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    await waitFor(async () => (await admin(b.adminPort, 'GET', '/api/properties/xmpp.register.inband.enabled')).body.value === true,
      PROPAGATION_MS, 'server B to see the change');
    assert.ok(Date.now() - started < PROPAGATION_MS);
    assert.equal(await registrationOffered(b), true, 'B applies it: in-band registration is offered');

    // The other way round, and from a third process: the CLI.
    const cli = await runCli(['property', 'unset', 'xmpp.register.inband.enabled'], { env: { XMPPD_DATABASE_URL: databaseUrl(database.config), XMPPD_PLUGINS_DIR: a.pluginsDir } });
    assert.equal(cli.code, 0, cli.stderr);
    for (const server of [a, b]) {
      await waitFor(async () => !(await registrationOffered(server)), PROPAGATION_MS, 'registration to be withdrawn');
    }
  } finally {
    for (const s of servers) await s.stop();
    await database.drop();
  }
});

/** The salt a node shows in its SCRAM challenge to a user who does not exist. */
async function saltForUnknownUser(server: TestServer): Promise<string> {
  const client = await RawClient.connect(server.c2sPort);
  try {
    await client.open();
    const first = Buffer.from('n,,n=nobody,r=abcdefghijklmnop').toString('base64');
    client.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${first}</auth>`);
    const challenge = await client.expect((el) => el.name === 'challenge');
    const salt = /,s=([^,]+),/.exec(Buffer.from(challenge.getText(), 'base64').toString())?.[1];
    assert.ok(salt, 'the challenge carries a salt');
    return salt;
  } finally {
    client.destroy();
  }
}

test('nodes sharing the database show an unknown user the same SCRAM salt, before and after a restart', async () => {
  // Otherwise asking each node behind a balancer (or one node twice, across a restart) would
  // tell an unknown account from a real one, whose salt never changes.
  const database = await createTestDatabase('mysql');
  const servers: TestServer[] = [];
  try {
    servers.push(await startTestServer({ dialect: 'mysql', database }));
    servers.push(await startTestServer({ dialect: 'mysql', database }));
    const [a, b] = servers as [TestServer, TestServer];
    const salt = await saltForUnknownUser(a);
    assert.equal(await saltForUnknownUser(b), salt);
    await a.stop();
    await a.start();
    assert.equal(await saltForUnknownUser(a), salt);
  } finally {
    for (const s of servers) await s.stop();
    await database.drop();
  }
});
