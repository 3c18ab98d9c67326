// PEP with a real client library (xmpp.js, @xmpp/client): one client publishes a nickname
// with publish-options, the other announces +notify in its caps, answers the server's
// disco#info with its own iqCallee, and receives the event; on both databases.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, xml, type Client } from '@xmpp/client';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { CAPS_NODE, capsVer } from '../helpers/pep-client.ts';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type Stanza = ReturnType<typeof xml>;
const NICK = 'http://jabber.org/protocol/nick';
const FEATURES = ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', `${NICK}+notify`];

async function connect(server: TestServer, username: string): Promise<Client> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: 'localhost', resource: 'xmppjs', username, password: 'secret' });
  xmpp.on('error', () => {});
  // What a client with caps answers at node#ver (XEP-0115 6.2).
  xmpp.iqCallee.get('http://jabber.org/protocol/disco#info', 'query', (ctx: { element: Stanza }) =>
    xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: ctx.element.attrs.node },
      xml('identity', { category: 'client', type: 'pc', name: 'test' }),
      ...FEATURES.map((f) => xml('feature', { var: f }))));
  await xmpp.start();
  return xmpp;
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`xmpp.js and PEP (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { XMPPD_REQUIRE_TLS: 'true', XMPPD_ALLOW_PLAINTEXT_AUTH: 'false' } });
      await server.addUser('romeo', 'secret');
      await server.addUser('juliet', 'secret');
      const storage = await server.storage();
      const both = (jid: string) => ({ jid, name: null, subscription: 'both' as const, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] });
      await storage.roster.put('romeo', both('juliet@localhost'));
      await storage.roster.put('juliet', both('romeo@localhost'));
    });
    after(() => server.stop());

    test('a nickname published by one xmpp.js client reaches the other as a PEP event', async () => {
      const romeo = await connect(server, 'romeo');
      const juliet = await connect(server, 'juliet');
      try {
        const discoAsked = new Promise<void>((resolve) => juliet.on('stanza', (s: Stanza) => { if (s.is('iq') && s.getChild('query', 'http://jabber.org/protocol/disco#info')) resolve(); }));
        const event = new Promise<Stanza>((resolve) => juliet.on('stanza', (s: Stanza) => {
          if (s.is('message') && s.getChild('event', 'http://jabber.org/protocol/pubsub#event')) resolve(s);
        }));
        await juliet.send(xml('presence', {}, xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: CAPS_NODE, ver: capsVer(FEATURES) })));
        await discoAsked;
        await romeo.send(xml('presence'));
        // The caps answer is verified and stored before Romeo publishes.
        const storage = await server.storage();
        const deadline = Date.now() + 5_000;
        while (!(await storage.caps.get(`sha-1 ${capsVer(FEATURES)}`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const result = await romeo.iqCaller.set(xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' },
          xml('publish', { node: NICK }, xml('item', { id: 'current' }, xml('nick', { xmlns: NICK }, 'Romeo'))),
          xml('publish-options', {}, xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
            xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, 'http://jabber.org/protocol/pubsub#publish-options')),
            xml('field', { var: 'pubsub#access_model' }, xml('value', {}, 'presence'))))));
        assert.equal(result.getChild('publish')!.getChild('item')!.attrs.id, 'current');
        const message = await Promise.race([event, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no PEP event')), 5_000))]);
        assert.equal(message.attrs.from, 'romeo@localhost');
        const items = message.getChild('event')!.getChild('items')!;
        assert.equal(items.attrs.node, NICK);
        assert.equal(items.getChild('item')!.getChildText('nick', NICK), 'Romeo');
      } finally {
        await romeo.stop();
        await juliet.stop();
      }
    });
  });
}
