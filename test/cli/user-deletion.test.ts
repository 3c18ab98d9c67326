// Deleting an account, however it is deleted (`xmppd user del` with or without a server
// running, the admin API, in-band removal): its sessions end on every node sharing the
// database, everything it owns goes, the rows of a plugin included (the plugin's
// ctx.onAccountDeleted handler), and a new account of the same name inherits nothing.
// Real server processes, the real CLI, real MariaDB and SQLite, a real plugin with a table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { databaseUrl, startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { admin, ADMIN_USER, waitFor } from '../plugins/fixtures.ts';
import { cliSandbox } from './run-cli.ts';

const NS = 'urn:xmppd:test:notes';

/** A plugins folder with `notes`: a table of its own, notes kept per account, and a deletion handler. */
function notesPlugin(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-notes-'));
  const plugin = join(dir, 'notes');
  mkdirSync(join(plugin, 'migrations'), { recursive: true });
  writeFileSync(join(plugin, 'plugin.json'), JSON.stringify({ name: 'notes', version: '1.0.0', migrations: 'migrations' }));
  writeFileSync(join(plugin, 'migrations', '0001-notes.js'), `
export async function up(knex) {
  await knex.schema.createTable('notes_items', (t) => { t.string('username', 191).notNullable(); t.text('note').notNullable(); });
}`);
  writeFileSync(join(plugin, 'index.js'), `
import { xml } from 'xmppd';
const NS = '${NS}';
export default {
  load(ctx) {
    const db = ctx.database;
    ctx.iq('bare', 'set', NS, async ({ from, payload }) => { await db('notes_items').insert({ username: from.local, note: payload.getText() }); });
    ctx.iq('bare', 'get', NS, async ({ from }) => {
      const rows = await db('notes_items').where({ username: from.local }).orderBy('note');
      return xml('notes', { xmlns: NS }, ...rows.map((r) => xml('note', null, r.note)));
    });
    ctx.onAccountDeleted(async (username) => { await db('notes_items').where({ username }).delete(); });
  },
};`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function login(server: TestServer, user: string, resource: string, password = 'secret'): Promise<RawClient> {
  const c = await RawClient.login(server.c2sPort, user, password, { resource });
  return c;
}

async function notes(c: RawClient): Promise<string[]> {
  const answer = await c.iq(`<iq type='get'><notes xmlns='${NS}'/></iq>`);
  assert.equal(answer.attrs.type, 'result', String(answer));
  return answer.getChild('notes')!.getChildren('note').map((n) => n.getText());
}

async function note(c: RawClient, text: string): Promise<void> {
  const answer = await c.iq(`<iq type='set'><note xmlns='${NS}'>${text}</note></iq>`);
  assert.equal(answer.attrs.type, 'result', String(answer));
}

async function rosterOf(c: RawClient): Promise<string[]> {
  const roster = await c.iq("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>");
  return roster.getChild('query')!.getChildren('item').map((i) => `${i.attrs.jid} ${i.attrs.subscription}${i.attrs.ask ? ` ${i.attrs.ask}` : ''}`);
}

const presence = (type: string, from: string) => (el: Element): boolean => el.name === 'presence' && el.attrs.type === type && el.attrs.from === from;

/** Two accounts subscribed to each other, through the protocol (both available). */
async function befriend(a: RawClient, b: RawClient): Promise<void> {
  const [aJid, bJid] = [a.jid!.split('/')[0]!, b.jid!.split('/')[0]!];
  a.send(`<presence to='${bJid}' type='subscribe'/>`);
  await b.expect(presence('subscribe', aJid));
  b.send(`<presence to='${aJid}' type='subscribed'/><presence to='${aJid}' type='subscribe'/>`);
  await a.expect(presence('subscribe', bJid));
  a.send(`<presence to='${bJid}' type='subscribed'/>`);
  await b.expect(presence('subscribed', aJid));
  assert.ok((await rosterOf(a)).includes(`${bJid} both`));
}

test('xmppd user del ends the sessions on every node, removes what the account owns and what a plugin kept, and a new account inherits nothing (mysql, two nodes)', async () => {
  const plugins = notesPlugin();
  const database = await createTestDatabase('mysql');
  const servers: TestServer[] = [];
  const box = cliSandbox(databaseUrl(database.config), 'localhost');
  try {
    const env = { XMPPD_PLUGINS_DIR: plugins.dir };
    // Two nodes sharing one database, not clustered: what one learns the other learns from the journal.
    servers.push(await startTestServer({ dialect: 'mysql', database, env, properties: { 'admin.jids': 'admin@localhost, bob' } }));
    servers.push(await startTestServer({ dialect: 'mysql', database, env }));
    const [a, b] = servers as [TestServer, TestServer];
    for (const u of ['alice', 'bob']) await a.addUser(u, 'secret');
    const alice = await login(a, 'alice', 'desk');
    const bobOnA = await login(a, 'bob', 'laptop');
    const bobOnB = await login(b, 'bob', 'phone');
    for (const c of [alice, bobOnA]) c.send('<presence/>');
    await befriend(alice, bobOnA);
    await note(bobOnA, 'bob on a');
    await note(bobOnB, 'bob on b');
    assert.deepEqual(await notes(bobOnB), ['bob on a', 'bob on b']);
    await note(alice, 'alice');

    const deleted = await box.run('user', 'del', 'bob@localhost');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /^deleted user bob@localhost\nits sessions ended, and node .+ removed what modules and plugins kept for it\n$/);

    // Both sessions, on both nodes, end as an account removed.
    for (const c of [bobOnA, bobOnB]) {
      assert.equal(await c.expectStreamError(), 'not-authorized');
    }
    // alice's subscriptions to and from bob are cancelled as if bob had cancelled them (by
    // whichever node finished the deletion: these two, not clustered, cannot tell each other's
    // clients, which the single-node test below shows).
    const storage = await a.storage();
    await waitFor(async () => (await storage.roster.get('alice', 'bob@localhost'))?.subscription === 'none', 5_000, 'alice\'s item for bob to have no subscription');
    assert.deepEqual(await notes(alice), ['alice'], 'others keep their notes');
    assert.equal((await storage.knex('notes_items').where({ username: 'bob' })).length, 0, 'the plugin removed bob\'s rows');
    assert.equal((await box.run('property', 'get', 'admin.jids')).stdout, 'admin@localhost\n', 'no longer an administrator');
    // Each node logged it.
    await waitFor(() => servers.some((s) => /account deletion finished user=bob@localhost source=cli/.test(s.logs())), 5_000, 'the log line');

    // The name is free again, and the new account starts from nothing.
    const added = await box.run('user', 'add', 'bob@localhost', 'other');
    assert.equal(added.code, 0, added.stderr);
    const newBob = await login(b, 'bob', 'phone', 'other');
    assert.deepEqual(await rosterOf(newBob), []);
    assert.deepEqual(await notes(newBob), []);
    for (const c of [alice, newBob]) await c.close();
  } finally {
    for (const s of servers) await s.stop();
    box.remove();
    await database.drop();
    plugins.remove();
  }
});

test('a deletion made while no server runs is finished at the next start, and the admin API and in-band removal run the handlers too (sqlite)', async () => {
  const plugins = notesPlugin();
  const database = await createTestDatabase('sqlite');
  let server: TestServer | null = null;
  const box = cliSandbox(databaseUrl(database.config), 'localhost');
  try {
    const env = { XMPPD_PLUGINS_DIR: plugins.dir };
    server = await startTestServer({ dialect: 'sqlite', database, env, properties: { 'admin.jids': ADMIN_USER[0], 'xmpp.auth.failure-delay': '0' } });
    for (const u of ['admin', 'alice', 'carol', 'dave', 'erin']) await server.addUser(u, u === 'admin' ? ADMIN_USER[1] : 'secret');
    const alice = await login(server, 'alice', 'r');
    alice.send('<presence/>');
    for (const u of ['carol', 'dave', 'erin']) {
      const c = await login(server, u, 'r');
      await note(c, `${u}'s`);
      c.send('<presence/>');
      if (u !== 'erin') await befriend(alice, c);
      await c.close();
    }
    await alice.close();
    await server.stop();
    server = null;

    // No server: the account goes at once; what the plugin kept waits for a node.
    const deleted = await box.run('user', 'del', 'carol');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'deleted user carol@localhost\n');
    assert.match(deleted.stderr, /no running node has finished the deletion yet/);
    const early = await box.run('user', 'add', 'carol', 'again');
    assert.equal(early.code, 1);
    assert.match(early.stderr, /^xmppd: user 'carol@localhost' was deleted and no node has finished the deletion yet/);

    server = await startTestServer({ dialect: 'sqlite', database, env, properties: {} });
    const log = server.logs();
    assert.ok(log.indexOf('account deletion finished user=carol@localhost source=cli') !== -1, log);
    assert.ok(log.indexOf('account deletion finished') < log.indexOf('serving '), 'finished before the node takes clients');
    const storage = await server.storage();
    assert.deepEqual((await storage.knex('notes_items').orderBy('username')).map((r) => r.username), ['dave', 'erin']);
    const alice2 = await login(server, 'alice', 'r');
    assert.deepEqual(await rosterOf(alice2), ['carol@localhost none', 'dave@localhost both'], 'carol\'s subscriptions were cancelled');
    alice2.send('<presence/>');
    // A new carol is a stranger to alice: neither sees the other's presence.
    assert.equal((await box.run('user', 'add', 'carol', 'again')).code, 0);
    const newCarol = await login(server, 'carol', 'r', 'again');
    assert.deepEqual(await rosterOf(newCarol), []);
    assert.deepEqual(await notes(newCarol), []);
    newCarol.send('<presence/>');
    assert.ok(await alice2.nothing((el) => el.name === 'presence' && el.attrs.from === 'carol@localhost/r', 1000));
    assert.ok(await newCarol.nothing((el) => el.name === 'presence' && el.attrs.from === 'alice@localhost/r', 500));
    await newCarol.close();

    // The admin API: dave's contact online hears of it at once.
    const res = await admin(server.adminPort, 'DELETE', '/api/users/dave');
    assert.equal(res.status, 204, JSON.stringify(res.body));
    await alice2.expect(presence('unsubscribe', 'dave@localhost'));
    await alice2.expect(presence('unsubscribed', 'dave@localhost'));
    await waitFor(async () => (await storage.knex('notes_items').where({ username: 'dave' })).length === 0, 5_000, 'dave\'s notes to go');
    assert.deepEqual(await rosterOf(alice2), ['carol@localhost none', 'dave@localhost none']);
    await alice2.close();

    // In-band removal (XEP-0077 3.2).
    const erin = await login(server, 'erin', 'r');
    const removed = await erin.iq("<iq type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>");
    assert.equal(removed.attrs.type, 'result', String(removed));
    assert.equal(await erin.expectStreamError(), 'not-authorized');
    await waitFor(async () => (await storage.knex('notes_items').where({ username: 'erin' })).length === 0, 5_000, 'erin\'s notes to go');
    // The line is written once every handler has finished, and reaches the test a moment after.
    await waitFor(() => /account deletion finished user=erin@localhost source=module/.test(server!.logs()), 5_000, 'the log line of the finished deletion');
  } finally {
    await server?.stop();
    box.remove();
    await database.drop();
    plugins.remove();
  }
});
