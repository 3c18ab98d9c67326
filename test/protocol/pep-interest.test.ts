// When a resource's interest in PEP nodes changes while items are published, against a real
// server process on both databases: caps that change often on a long-lived session (as
// Smack's clients do, one new verification string per listener added or removed), a new
// presence crossing a contact's publish, identical items published again, and a caps answer
// that arrives after the client has moved on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { answerCaps, capsPresence, capsVer, contactItem, eventContent, publishIq } from '../helpers/pep-client.ts';

const TUNE = 'http://jabber.org/protocol/tune';
const PLAIN = ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info'];
const WITH_TUNE = [...PLAIN, `${TUNE}+notify`];
const tune = (title: string): string => `<tune xmlns='${TUNE}'><title>${title}</title></tune>`;

/** Waits for the tune event carrying one item id (a last item or a notification alike). */
const tuneItem = (client: RawClient, id: string, timeoutMs = 5_000): Promise<Element> =>
  client.expect((el) => {
    const items = el.name === 'message' ? el.getChild('event', 'http://jabber.org/protocol/pubsub#event')?.getChild('items') : undefined;
    return items?.attrs.node === TUNE && items.getChild('item')?.attrs.id === id;
  }, timeoutMs);

const anyTune = (el: Element): boolean => el.name === 'message' && eventContent(el)?.attrs.node === TUNE;

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`PEP interest changing while items are published (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
      const storage = await server.storage();
      await storage.roster.put('alice', contactItem('bob@localhost'));
      await storage.roster.put('bob', contactItem('alice@localhost'));
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'desk' });
      const caps = answerCaps(alice);
      alice.send(caps.presence(PLAIN));
      // Both strings are known to the server before the tests start.
      alice.send(caps.presence(WITH_TUNE));
      alice.send(caps.presence(PLAIN));
      const deadline = Date.now() + 5_000;
      while (caps.queries.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(caps.queries.length, 2);
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'phone' });
      bob.send(capsPresence(PLAIN));
      await alice.expect((el) => el.name === 'presence' && el.attrs.from === bob.jid);
    });

    after(async () => {
      for (const c of [alice, bob]) await c?.close();
      await server?.stop();
    });

    test('known caps adding +notify, at once followed by the contact\'s publish: the item reaches the resource', async () => {
      for (let i = 0; i < 5; i++) {
        bob.send(capsPresence(PLAIN));
        // Sent on two connections with no wait: the server may read either first.
        bob.send(capsPresence(WITH_TUNE));
        const published = alice.iq(publishIq(TUNE, `crossed-${i}`, tune(`Crossed ${i}`)));
        const event = await tuneItem(bob, `crossed-${i}`);
        assert.equal((await published).attrs.type, 'result');
        assert.equal(event.attrs.from, 'alice@localhost');
        assert.equal(eventContent(event).getChild('item')!.getChild('tune', TUNE)!.getChildText('title'), `Crossed ${i}`);
      }
    });

    test('an item published again unchanged is notified again, and comes again as the last item', async () => {
      bob.send(capsPresence(WITH_TUNE));
      const same = publishIq(TUNE, 'same', tune('Same'));
      assert.equal((await alice.iq(same)).attrs.type, 'result');
      await tuneItem(bob, 'same');
      assert.equal((await alice.iq(same)).attrs.type, 'result');
      await tuneItem(bob, 'same');
      // Interest dropped, then asked for again right as the same item is published once more.
      bob.send(capsPresence(PLAIN));
      bob.send(capsPresence(WITH_TUNE));
      const published = alice.iq(same);
      await tuneItem(bob, 'same');
      assert.equal((await published).attrs.type, 'result');
    });

    test('a long-lived resource changing its caps again and again is still asked about new ones and notified', async () => {
      const busy = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'busy' });
      const caps = answerCaps(busy);
      // More new strings than a budget per session would allow, each a feature added and dropped.
      for (let i = 0; i < 8; i++) {
        busy.send(caps.presence([...PLAIN, `urn:example:feature:${i}`], { name: 'busy' }));
        const deadline = Date.now() + 5_000;
        while (caps.queries.length < i + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(caps.queries.length, 8);
      busy.send(caps.presence([...WITH_TUNE, 'urn:example:feature:last'], { name: 'busy' }));
      // The new string's last item, then the next item as it is published.
      await tuneItem(busy, 'same');
      assert.equal(caps.queries.length, 9);
      assert.equal((await alice.iq(publishIq(TUNE, 'busy-1', tune('Busy')))).attrs.type, 'result');
      await tuneItem(busy, 'busy-1');
      await busy.close();
    });

    test('a caps answer arriving after the next presence does not bring back the interest that presence dropped', async () => {
      const slow = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'slow' });
      const features = [...WITH_TUNE, 'urn:example:slow'];
      slow.send(capsPresence(features, 'slow'));
      const query = await slow.expect((el) => el.name === 'iq' && el.attrs.type === 'get');
      // Before answering, the client announces caps without +notify (known already).
      slow.send(capsPresence(PLAIN));
      await alice.expect((el) => el.name === 'presence' && el.attrs.from === slow.jid && el.getChild('c')?.attrs.ver === capsVer(PLAIN));
      const node = query.getChild('query')!.attrs.node!;
      slow.send(`<iq type='result' id='${query.attrs.id}' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='${node}'><identity category='client' type='pc' name='slow'/>${features.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`);
      assert.ok(await slow.nothing(anyTune, 700), 'no last item for interest the client no longer has');
      // Asking for the node again, now with the string known, is a new interest: the last item comes.
      slow.send(capsPresence(features, 'slow'));
      await tuneItem(slow, 'busy-1');
      await slow.close();
    });
  });
}
