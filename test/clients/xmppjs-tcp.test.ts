// A real client library that nobody here wrote (xmpp.js, @xmpp/client) drives the server over
// TCP with STARTTLS and SCRAM: login, roster, subscription, presence, chat and offline
// delivery, and message carbons, on both database dialects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, xml, type Client } from '@xmpp/client';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

// The test server's certificate is self-signed.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type Stanza = ReturnType<typeof xml>;

/** Collects stanzas and lets a test wait for one that matches. */
class Inbox {
  private readonly items: Stanza[] = [];
  private readonly waiters: { match: (s: Stanza) => boolean; resolve: (s: Stanza) => void }[] = [];

  constructor(xmpp: Client) {
    xmpp.on('stanza', (s: Stanza) => {
      const i = this.waiters.findIndex((w) => w.match(s));
      if (i === -1) this.items.push(s);
      else this.waiters.splice(i, 1)[0]!.resolve(s);
    });
  }

  next(match: (s: Stanza) => boolean, ms = 5_000): Promise<Stanza> {
    const i = this.items.findIndex(match);
    if (i !== -1) return Promise.resolve(this.items.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching stanza within ${ms} ms; have: ${this.items.map(String).join('\n')}`)), ms);
      this.waiters.push({ match, resolve: (s) => { clearTimeout(timer); resolve(s); } });
    });
  }
}

interface Connected {
  xmpp: Client;
  inbox: Inbox;
  jid: string;
}

async function connect(server: TestServer, username: string, resource: string): Promise<Connected> {
  const xmpp = client({
    service: `xmpp://127.0.0.1:${server.c2sPort}`,
    domain: 'localhost',
    resource,
    username,
    password: 'secret',
  });
  xmpp.on('error', () => {});
  const inbox = new Inbox(xmpp);
  const address = await xmpp.start();
  return { xmpp, inbox, jid: address.toString() };
}

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`xmpp.js over TCP (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      // Real defaults: STARTTLS required before authentication, no plaintext PLAIN.
      server = await startTestServer({ dialect, env: { XMPPD_REQUIRE_TLS: 'true', XMPPD_ALLOW_PLAINTEXT_AUTH: 'false' } });
      await server.addUser('romeo', 'secret');
      await server.addUser('juliet', 'secret');
    });
    after(() => server.stop());

    test('log in with STARTTLS and SCRAM, roster, subscription, presence, chat, offline', async () => {
      const romeo = await connect(server, 'romeo', 'balcony');
      const juliet = await connect(server, 'juliet', 'garden');
      assert.equal(romeo.jid, 'romeo@localhost/balcony');
      assert.equal(juliet.jid, 'juliet@localhost/garden');

      // Roster: Romeo fetches his (empty) roster, which makes him receive pushes (RFC 6121
      // 2.1.6), then adds Juliet and gets the result and a push.
      const empty = await romeo.xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
      assert.equal(empty.getChildren('item').length, 0);
      await juliet.xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
      const push = romeo.inbox.next((s) => s.is('iq') && s.attrs.type === 'set' && !!s.getChild('query', 'jabber:iq:roster'));
      await romeo.xmpp.iqCaller.set(xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'juliet@localhost', name: 'Juliet' }, xml('group', {}, 'Capulets'))));
      const pushed = await push;
      assert.equal(pushed.getChild('query')!.getChild('item')!.attrs.jid, 'juliet@localhost');
      const roster = await romeo.xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
      const items = roster.getChildren('item');
      assert.equal(items.length, 1);
      assert.equal(items[0]!.attrs.name, 'Juliet');
      assert.equal(items[0]!.getChildText('group'), 'Capulets');

      // Both go available; Romeo asks for a subscription, Juliet approves and subscribes back.
      await juliet.xmpp.send(xml('presence'));
      await romeo.xmpp.send(xml('presence'));
      const request = juliet.inbox.next((s) => s.is('presence') && s.attrs.type === 'subscribe');
      await romeo.xmpp.send(xml('presence', { to: 'juliet@localhost', type: 'subscribe' }));
      assert.equal((await request).attrs.from, 'romeo@localhost');
      const julietOnline = romeo.inbox.next((s) => s.is('presence') && s.attrs.from === 'juliet@localhost/garden' && !s.attrs.type);
      await juliet.xmpp.send(xml('presence', { to: 'romeo@localhost', type: 'subscribed' }));
      await julietOnline;
      const romeoRequest = romeo.inbox.next((s) => s.is('presence') && s.attrs.type === 'subscribe');
      await juliet.xmpp.send(xml('presence', { to: 'romeo@localhost', type: 'subscribe' }));
      await romeoRequest;
      const romeoOnline = juliet.inbox.next((s) => s.is('presence') && s.attrs.from === 'romeo@localhost/balcony' && !s.attrs.type);
      await romeo.xmpp.send(xml('presence', { to: 'juliet@localhost', type: 'subscribed' }));
      await romeoOnline;
      const both = await romeo.xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
      assert.equal(both.getChild('item')!.attrs.subscription, 'both');

      // Chat to the bare JID reaches Juliet's only resource.
      const chat = juliet.inbox.next((s) => s.is('message') && s.getChildText('body') === 'But soft!');
      await romeo.xmpp.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'But soft!')));
      assert.equal((await chat).attrs.from, 'romeo@localhost/balcony');

      // Juliet leaves: Romeo sees her unavailable, his message is stored and delivered at her next login.
      const gone = romeo.inbox.next((s) => s.is('presence') && s.attrs.type === 'unavailable' && s.attrs.from === 'juliet@localhost/garden');
      await juliet.xmpp.stop();
      await gone;
      await romeo.xmpp.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'Wherefore art thou?')));
      // Give the offline store a moment: the message has no other ack in XMPP.
      await new Promise((r) => setTimeout(r, 300));
      const back = await connect(server, 'juliet', 'tomb');
      const stored = back.inbox.next((s) => s.is('message') && s.getChildText('body') === 'Wherefore art thou?');
      await back.xmpp.send(xml('presence'));
      const offline = await stored;
      assert.equal(offline.attrs.from, 'romeo@localhost/balcony');
      assert.ok(offline.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp, 'offline message carries a delay stamp');

      await romeo.xmpp.stop();
      await back.xmpp.stop();
    });

    test('message carbons (XEP-0280): an enabled resource sees what another sends and receives', async () => {
      const CARBONS = 'urn:xmpp:carbons:2';
      const phone = await connect(server, 'romeo', 'phone');
      const laptop = await connect(server, 'romeo', 'laptop');
      const juliet = await connect(server, 'juliet', 'window');
      const info = await phone.xmpp.iqCaller.get(xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'localhost');
      assert.ok(info.getChildren('feature').some((f) => f.attrs.var === CARBONS), 'the server offers carbons');
      await phone.xmpp.iqCaller.set(xml('enable', { xmlns: CARBONS }));
      const forwardedIn = (s: Stanza, direction: string): Stanza | undefined =>
        s.getChild(direction, CARBONS)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');

      /** `from` sends `body` to `to`; the phone must get a copy of it, from romeo's bare JID. */
      const copied = async (direction: string, from: Connected, to: Connected, body: string): Promise<void> => {
        const copy = phone.inbox.next((s) => s.is('message') && forwardedIn(s, direction)?.getChildText('body') === body);
        await from.xmpp.send(xml('message', { to: to.jid, type: 'chat' }, xml('body', {}, body)));
        const got = await copy;
        assert.equal(got.attrs.from, 'romeo@localhost');
        assert.equal(forwardedIn(got, direction)!.attrs.from, from.jid);
        await to.inbox.next((s) => s.is('message') && s.getChildText('body') === body);
      };
      await copied('sent', laptop, juliet, 'From the laptop');
      await copied('received', juliet, laptop, 'To the laptop');

      for (const c of [phone, laptop, juliet]) await c.xmpp.stop();
    });

    test('a wrong password is refused', async () => {
      const xmpp = client({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: 'localhost', username: 'romeo', password: 'wrong' });
      xmpp.on('error', () => {});
      await assert.rejects(xmpp.start(), /not-authorized/);
      await xmpp.stop().catch(() => {});
    });
  });
}
