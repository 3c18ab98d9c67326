// A database belongs to the domain it was first served as: a server configured for another
// refuses to start, saying which command moves the data, and `xmppd migrate --rename-domain`
// moves it. Data made by real clients on a real server, on both databases; the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../helpers/test-database.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { databaseUrl, startTestServer, type TestServer } from '../helpers/server-process.ts';
import { cliSandbox } from './run-cli.ts';

const NEW = 'chat.example';

async function login(server: TestServer, user: string, domain: string): Promise<RawClient> {
  const c = await RawClient.connect(server.c2sPort, { domain });
  await c.open();
  const result = await c.authPlain(user, 'secret');
  assert.equal(result.name, 'success', `${user}@${domain}: ${result}`);
  await c.open();
  await c.bind('res');
  return c;
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  test(`a database of another domain is refused at start until migrate --rename-domain moves it (${dialect})`, async () => {
    const database = await createTestDatabase(dialect);
    let server: TestServer | null = null;
    const box = cliSandbox(databaseUrl(database.config), NEW);
    try {
      // Served as localhost first: a subscription, a block, a pending request, an offline message.
      server = await startTestServer({ dialect, database, properties: { 'admin.jids': 'alice@localhost, bob' } });
      for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
      const alice = await login(server, 'alice', 'localhost');
      const bob = await login(server, 'bob', 'localhost');
      // Available, so that subscription requests reach them at once.
      for (const c of [alice, bob]) c.send('<presence/>');
      alice.send("<presence to='bob@localhost' type='subscribe'/>");
      await bob.expect((el) => el.name === 'presence' && el.attrs.type === 'subscribe');
      bob.send("<presence to='alice@localhost' type='subscribed'/>");
      await alice.expect((el) => el.name === 'presence' && el.attrs.type === 'subscribed');
      const blocked = await alice.iq("<iq type='set'><block xmlns='urn:xmpp:blocking'><item jid='mallory@localhost/phone'/></block></iq>");
      assert.equal(blocked.attrs.type, 'result', String(blocked));
      const dave = await login(server, 'dave', 'localhost');
      dave.send("<presence to='alice@localhost' type='subscribe'/>");
      await alice.expect((el) => el.name === 'presence' && el.attrs.type === 'subscribe' && el.attrs.from === 'dave@localhost');
      alice.send("<message to='carol@localhost' type='chat'><body>while you were out</body></message>");
      // The message is stored once alice's stream is done with it.
      await alice.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
      for (const c of [alice, bob, dave]) await c.close();
      await server.stop();
      server = null;

      // Configured for another domain: refused, in one line naming both and the command.
      await assert.rejects(startTestServer({ dialect, database, env: { XMPPD_DOMAIN: NEW } }), (err: Error) => {
        assert.match(err.message, /server exited with 2 before listening/);
        const line = `xmppd: the database holds the data of the domain localhost, not of ${NEW} (the configured domain): ` +
          `to move its accounts and data to ${NEW}, stop every node and run 'xmppd migrate --rename-domain localhost ${NEW}'; ` +
          'to serve localhost, set domain: localhost in the configuration\n';
        assert.ok(err.message.endsWith(line), err.message);
        return true;
      });
      // The administrative commands refuse it the same way.
      const list = await box.run('user', 'list');
      assert.equal(list.code, 2);
      assert.match(list.stderr, /^xmppd: the database holds the data of the domain localhost, not of chat\.example/);

      // The rename: refused when the configuration is not the new domain, then done.
      assert.match((await box.run('migrate', '--rename-domain', 'localhost', 'elsewhere.example')).stderr, /the configuration serves chat\.example, not elsewhere\.example/);
      assert.match((await box.run('migrate', '--rename-domain', 'nowhere.example', NEW)).stderr, /holds the data of localhost, not of nowhere\.example/);
      const renamed = await box.run('migrate', '--rename-domain', 'localhost', NEW);
      assert.equal(renamed.code, 0, renamed.stderr);
      assert.match(renamed.stdout, new RegExp(`^moved the data of localhost to ${NEW.replace('.', '\\.')}: 4 roster items, 1 pending subscription requests, 1 block list entries, 1 offline messages, 1 properties rewritten$`, 'm'));
      const again = await box.run('migrate', '--rename-domain', 'localhost', NEW);
      assert.equal(again.code, 1);
      assert.ok(again.stderr.endsWith(`xmppd: the database already holds the data of ${NEW}: nothing to rename\n`), again.stderr);
      assert.equal((await box.run('property', 'get', 'admin.jids')).stdout, `alice@${NEW}, bob\n`);

      // Served as the new domain: everything is there under the new JIDs.
      server = await startTestServer({ dialect, database, env: { XMPPD_DOMAIN: NEW } });
      const alice2 = await login(server, 'alice', NEW);
      const roster = await alice2.iq("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>");
      const items = roster.getChild('query')!.getChildren('item').map((i) => `${i.attrs.jid} ${i.attrs.subscription}`);
      assert.deepEqual(items, [`bob@${NEW} to`]);
      const list2 = await alice2.iq("<iq type='get'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
      assert.deepEqual(list2.getChild('blocklist')!.getChildren('item').map((i) => i.attrs.jid), [`mallory@${NEW}/phone`]);
      alice2.send('<presence/>');
      const request = await alice2.expect((el) => el.name === 'presence' && el.attrs.type === 'subscribe');
      assert.equal(request.attrs.from, `dave@${NEW}`);
      assert.equal(request.attrs.to, `alice@${NEW}`);
      const carol = await login(server, 'carol', NEW);
      carol.send('<presence/>');
      const message = await carol.expect((el) => el.name === 'message');
      assert.equal(message.getChildText('body'), 'while you were out');
      assert.equal(message.attrs.from, `alice@${NEW}/res`);
      assert.equal(message.attrs.to, `carol@${NEW}`);
      assert.equal(message.getChild('delay')?.attrs.from, NEW);
      for (const c of [alice2, carol]) await c.close();
    } finally {
      await server?.stop();
      box.remove();
      await database.drop();
    }
  });
}
