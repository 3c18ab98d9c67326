// Offline messages (RFC 6121 8.5.2.2.1, XEP-0160) against a real server process, on both
// databases: storage, the per-user limit, delivery in order at the next login, and no loss
// when the server process is killed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const isMessage = (el: Element): boolean => el.name === 'message';

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`offline messages (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    const stored = async (user: string): Promise<number> => (await server.storage()).offline.count(user);

    before(async () => {
      server = await startTestServer({ dialect, properties: { 'xmpp.offline.max-per-user': '3' } });
      for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina']) await server.addUser(u, 'secret');
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { presence: true });
    });

    after(async () => {
      await alice?.close();
      await server?.stop();
    });

    test('messages are stored and delivered in order at the next login, stamped, then removed', async () => {
      alice.send(`<message to='bob@localhost' type='chat' id='m1'><body>one</body></message>`);
      alice.send(`<message to='bob@localhost' id='m2'><body>two</body></message>`);
      alice.send(`<message to='bob@localhost/gone' type='normal' id='m3'><subject>three</subject></message>`);
      await until('three messages are stored', async () => (await stored('bob')) === 3);
      const before = Date.now();
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { presence: true });
      const received = [await bob.expect(isMessage), await bob.expect(isMessage), await bob.expect(isMessage)];
      assert.deepEqual(received.map((m) => m.attrs.id), ['m1', 'm2', 'm3']);
      assert.equal(received[0]!.getChildText('body'), 'one');
      assert.equal(received[0]!.attrs.from, alice.jid);
      for (const m of received) {
        const delay = m.getChild('delay', 'urn:xmpp:delay')!;
        assert.equal(delay.attrs.from, 'localhost');
        assert.ok(Date.parse(delay.attrs.stamp!) <= before, 'stamped when stored');
      }
      await until('the delivered messages are deleted', async () => (await stored('bob')) === 0);
      assert.ok(await bob.nothing(isMessage), 'each message comes once');
      await bob.close();
    });

    test('chat states alone, headlines and no-store hints are dropped without an error', async () => {
      alice.send(`<message to='carol@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
      alice.send(`<message to='carol@localhost' type='headline'><body>news</body></message>`);
      alice.send(`<message to='carol@localhost' type='chat'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>`);
      alice.send(`<message to='carol@localhost' type='chat' id='kept'><body>kept</body></message>`);
      await until('the last message is stored', async () => (await stored('carol')) >= 1);
      assert.ok(await alice.nothing((el) => el.attrs.type === 'error', 500), 'no error comes back');
      assert.equal(await stored('carol'), 1);
      const carol = await RawClient.login(server.c2sPort, 'carol', 'secret', { presence: true });
      const m = await carol.expect(isMessage);
      assert.equal(m.attrs.id, 'kept');
      assert.ok(await carol.nothing(isMessage));
      await carol.close();
    });

    test('XEP-0334: <store/> keeps a message without a body, <no-permanent-store/> does not stop offline storage', async () => {
      alice.send(`<message to='gina@localhost' type='chat' id='np'><body>off the record</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`);
      alice.send(`<message to='gina@localhost' id='st'><encrypted xmlns='urn:example:e2e'>...</encrypted><store xmlns='urn:xmpp:hints'/></message>`);
      alice.send(`<message to='gina@localhost' type='chat' id='both'><body>x</body><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>`);
      await until('two are stored', async () => (await stored('gina')) === 2);
      const gina = await RawClient.login(server.c2sPort, 'gina', 'secret', { presence: true });
      assert.deepEqual([(await gina.expect(isMessage)).attrs.id, (await gina.expect(isMessage)).attrs.id], ['np', 'st']);
      assert.ok(await gina.nothing(isMessage, 300), 'no-store wins over store');
      await gina.close();
    });

    test('beyond xmpp.offline.max-per-user the sender gets resource-constraint (type wait)', async () => {
      for (let i = 1; i <= 4; i++) alice.send(`<message to='dave@localhost' type='chat' id='d${i}'><body>${i}</body></message>`);
      const error = await alice.expect((el) => el.name === 'message' && el.attrs.type === 'error');
      assert.equal(error.attrs.id, 'd4', String(error));
      assert.equal(error.attrs.from, 'dave@localhost');
      assert.equal(errorCondition(error), 'resource-constraint');
      assert.equal(error.getChild('error')!.attrs.type, 'wait');
      assert.equal(await stored('dave'), 3);
    });

    test('initial presence with a negative priority does not take the messages', async () => {
      alice.send(`<message to='erin@localhost' type='chat' id='e1'><body>hi</body></message>`);
      await until('stored', async () => (await stored('erin')) === 1);
      const erin = await RawClient.login(server.c2sPort, 'erin', 'secret');
      erin.send(`<presence><priority>-1</priority></presence>`);
      assert.ok(await erin.nothing(isMessage, 800));
      assert.equal(await stored('erin'), 1);
      await erin.close();
    });

    test('stored messages survive a killed server process', async () => {
      alice.send(`<message to='frank@localhost' type='chat' id='f1'><body>before the crash</body></message>`);
      alice.send(`<message to='frank@localhost' type='chat' id='f2'><body>also before</body></message>`);
      await until('both are stored', async () => (await stored('frank')) === 2);
      await server.kill();
      await alice.closed;
      await server.start();
      await until('the restarted server listens', async () => {
        try {
          (await RawClient.connect(server.c2sPort)).destroy();
          return true;
        } catch {
          return false;
        }
      });
      const frank = await RawClient.login(server.c2sPort, 'frank', 'secret', { presence: true });
      const ids = [(await frank.expect(isMessage)).attrs.id, (await frank.expect(isMessage)).attrs.id];
      assert.deepEqual(ids, ['f1', 'f2']);
      await frank.close();
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
    });
  });
}
