// RFC 6121 8.5.3.2.1 against a real server process, on both databases: a message to a full
// JID that no session holds. Only chat falls back to the account's other resources; normal
// is refused while they are online and kept offline while none is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const isMessage = (el: Element): boolean => el.name === 'message';

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`messages to a full JID nobody holds (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'secret');
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { presence: true });
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'desk', presence: true });
    });

    after(async () => {
      for (const c of [alice, bob]) await c?.close();
      await server?.stop();
    });

    test('chat falls back to the account\'s other resources', async () => {
      alice.send(`<message to='bob@localhost/phone' type='chat' id='c1'><body>hi</body></message>`);
      const m = await bob.expect(isMessage);
      assert.equal(m.attrs.id, 'c1');
      assert.equal(m.attrs.to, 'bob@localhost/phone', 'delivered as it was addressed');
    });

    test('normal does not: the sender gets service-unavailable while other resources are online', async () => {
      alice.send(`<message to='bob@localhost/phone' id='n1'><body>for the phone only</body></message>`);
      alice.send(`<message to='bob@localhost/phone' type='normal' id='n2'><body>this one too</body></message>`);
      for (const id of ['n1', 'n2']) {
        const error = await alice.expect((el) => isMessage(el) && el.attrs.id === id);
        assert.equal(error.attrs.type, 'error', String(error));
        assert.equal(errorCondition(error), 'service-unavailable');
        assert.equal(error.attrs.from, 'bob@localhost/phone');
      }
      assert.ok(await bob.nothing(isMessage, 300), 'the other resource gets nothing');
      assert.equal(await (await server.storage()).offline.count('bob'), 0, 'nor is anything stored');
    });

    test('with no resource online, normal is stored offline like a message to the bare JID', async () => {
      alice.send(`<message to='carol@localhost/phone' id='n3'><body>later</body></message>`);
      alice.send(`<message to='nobody@localhost/phone' id='n4'><body>lost</body></message>`);
      const error = await alice.expect((el) => isMessage(el) && el.attrs.id === 'n4');
      assert.equal(errorCondition(error), 'service-unavailable', 'an account that does not exist is an error');
      const deadline = Date.now() + 5_000;
      while ((await (await server.storage()).offline.count('carol')) !== 1) {
        if (Date.now() > deadline) throw new Error('the message was not stored');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(await alice.nothing((el) => isMessage(el) && el.attrs.id === 'n3', 300), 'no error for the stored one');
    });

    test('errors and headlines to a missing resource are dropped silently', async () => {
      alice.send(`<message to='bob@localhost/phone' type='headline' id='h1'><body>news</body></message>`);
      alice.send(`<message to='bob@localhost/phone' type='error' id='e1'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      assert.ok(await bob.nothing(isMessage, 300));
      assert.ok(await alice.nothing(isMessage, 100));
    });
  });
}
