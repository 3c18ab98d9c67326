// xmpp.js (@xmpp/client, unmodified from npm) logs in over ws:// and exchanges messages
// with a TCP user and with a BOSH user (Strophe.js): the three transports meet in the same
// sessions and routing, with nothing special-cased.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { client, xml } from '@xmpp/client';
import { $msg, Strophe } from 'strophe.js';
import WebSocket from 'ws';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { installXMLHttpRequest } from './node-xhr.ts';

// Node 20 has no global WebSocket; xmpp.js uses the platform's, as in a browser.
(globalThis as Record<string, unknown>).WebSocket = WebSocket;
installXMLHttpRequest();
Strophe.setLogLevel(Strophe.LogLevel.WARN);

let server: TestServer;

before(async () => {
  server = await startTestServer();
  for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'secret');
});

after(async () => {
  await server?.stop();
});

interface XmppElement {
  name: string;
  attrs: Record<string, string>;
  is(name: string): boolean;
  getChildText(name: string): string | null;
}

test('xmpp.js over WebSocket exchanges messages with a TCP user and a BOSH user', async () => {
  const xmpp = client({ service: `ws://127.0.0.1:${server.httpPort}/ws`, domain: 'localhost', username: 'alice', password: 'secret', resource: 'web' });
  xmpp.on('error', () => {});
  const inbox: XmppElement[] = [];
  const waiters: (() => void)[] = [];
  xmpp.on('stanza', (stanza: XmppElement) => {
    if (!stanza.is('message')) return;
    inbox.push(stanza);
    for (const w of waiters.splice(0)) w();
  });
  const nextMessage = async (from: string): Promise<XmppElement> => {
    for (;;) {
      const found = inbox.find((m) => m.attrs.from === from);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  const address = await xmpp.start();
  assert.equal(address.toString(), 'alice@localhost/web');
  await xmpp.send(xml('presence'));

  const tcp = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'tcp' });
  const bosh = new Strophe.Connection(`http://127.0.0.1:${server.httpPort}/http-bind`);
  await new Promise<void>((resolve, reject) => {
    bosh.connect('carol@localhost/bosh', 'secret', (status: number) => {
      if (status === Strophe.Status.CONNECTED) resolve();
      else if (status === Strophe.Status.AUTHFAIL || status === Strophe.Status.CONNFAIL) reject(new Error(`BOSH login failed: ${status}`));
    });
  });
  const boshInbox = new Promise<Element>((resolve) => {
    bosh.addHandler((stanza: Element) => {
      resolve(stanza);
      return false;
    }, null, 'message');
  });

  try {
    // WebSocket -> TCP and TCP -> WebSocket
    await xmpp.send(xml('message', { to: tcp.jid, type: 'chat' }, xml('body', {}, 'ws to tcp')));
    const atTcp = await tcp.expect((el) => el.name === 'message');
    assert.equal(atTcp.getChildText('body'), 'ws to tcp');
    assert.equal(atTcp.attrs.from, 'alice@localhost/web');
    tcp.send(`<message to='alice@localhost/web' type='chat'><body>tcp to ws</body></message>`);
    assert.equal((await nextMessage(tcp.jid)).getChildText('body'), 'tcp to ws');

    // WebSocket -> BOSH and BOSH -> WebSocket
    await xmpp.send(xml('message', { to: 'carol@localhost/bosh', type: 'chat' }, xml('body', {}, 'ws to bosh')));
    const atBosh = await boshInbox;
    assert.equal(atBosh.getElementsByTagName('body')[0]!.textContent, 'ws to bosh');
    assert.equal(atBosh.getAttribute('from'), 'alice@localhost/web');
    bosh.send($msg({ to: 'alice@localhost/web', type: 'chat' }).c('body').t('bosh to ws'));
    assert.equal((await nextMessage('carol@localhost/bosh')).getChildText('body'), 'bosh to ws');

    // An IQ round trip through the same stream: the server answers a ping.
    await assert.doesNotReject(xmpp.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost'));
    await assert.rejects(xmpp.iqCaller.get(xml('nonsense', { xmlns: 'urn:example:none' }), 'localhost'),
      (err: Error & { condition?: string }) => err.condition === 'service-unavailable', 'an error answer reaches xmpp.js as an error');
  } finally {
    await tcp.close();
    await new Promise<void>((resolve) => {
      bosh.connect_callback = (status: number) => {
        if (status === Strophe.Status.DISCONNECTED) resolve();
      };
      bosh.disconnect('done');
    });
    await xmpp.stop();
  }
});

test('xmpp.js reports a wrong password over WebSocket as not-authorized', async () => {
  const xmpp = client({ service: `ws://127.0.0.1:${server.httpPort}/ws`, domain: 'localhost', username: 'alice', password: 'wrong' });
  xmpp.on('error', () => {});
  await assert.rejects(xmpp.start(), (err: Error & { condition?: string }) => err.condition === 'not-authorized');
  await xmpp.stop().catch(() => {});
});
