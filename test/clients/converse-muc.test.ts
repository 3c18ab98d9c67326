// Group chat with two clients nobody here wrote: Converse.js in Chromium over WebSocket and
// xmpp.js (@xmpp/client) over TCP, in a room an operator created through the admin API. The
// Converse user joins through Converse's API, sees what the xmpp.js user posts and posts
// back; then the operator turns archiving on (and discussion history off), and in a new
// browser profile Converse finds the room's messages again, which it can only get from the
// room's archive (XEP-0313 at the room's JID).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { client, xml, type Client } from '@xmpp/client';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../console/browser.ts';
import { SERVICE } from '../helpers/muc-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin } from '../plugins/fixtures.ts';
import { converseInNewProfile, messageBox, serveConverse, type ConversePages } from './converse-page.ts';

// xmpp.js does STARTTLS with the server's self-signed certificate.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type Stanza = ReturnType<typeof xml>;
const ROOM = `lounge@${SERVICE}`;

let server: TestServer;
let pages: ConversePages;
let browser: Browser;
let bob: Client;
const bobGot: Stanza[] = [];

before(async () => {
  server = await startTestServer({ properties: ADMIN_PROPERTIES });
  await server.addUser('admin', ADMIN_USER[1]);
  await server.addUser('alice', 'alice-pw');
  await server.addUser('bob', 'bob-pw');
  pages = await serveConverse(`ws://127.0.0.1:${server.httpPort}/ws`, 'alice@localhost', 'alice-pw');
  browser = await launchChromium();
  bob = client({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: 'localhost', resource: 'lib', username: 'bob', password: 'bob-pw' });
  bob.on('error', () => {});
  bob.on('stanza', (s: Stanza) => bobGot.push(s));
  await bob.start();
});

after(async () => {
  await bob?.stop().catch(() => {});
  await browser?.close();
  pages?.close();
  await server?.stop();
});

/** Resolves once bob has received a stanza that matches. */
async function bobReceives(match: (s: Stanza) => boolean, what: string): Promise<Stanza> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const found = bobGot.find(match);
    if (found) return found;
  }
  throw new Error(`bob did not receive ${what}`);
}

const groupchat = (body: string): Stanza => xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, body));

/** Alice in a new browser profile, in the room as Alice through Converse's API. */
async function aliceInRoom(): Promise<Page> {
  const page = await converseInNewProfile(browser, pages);
  await page.evaluate((jid) => (window as unknown as { xmppdApi: { rooms: { open(jid: string, attrs: object, force: boolean): Promise<unknown> } } })
    .xmppdApi.rooms.open(jid, { nick: 'Alice' }, true), ROOM);
  return page;
}

test('Converse.js joins a room, sees what xmpp.js posts, and after a new profile reads the room archive', async () => {
  const created = await admin(server.adminPort, 'POST', '/api/rooms', { json: { name: 'lounge', owner: 'bob@localhost', options: { roomname: 'Lounge' } } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await bob.send(xml('presence', { to: `${ROOM}/Bob` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await bobReceives((s) => s.is('presence') && s.attrs.from === `${ROOM}/Bob`, 'its own presence in the room');

  const first = await aliceInRoom();
  await bobReceives((s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice` && s.attrs.type === undefined, 'Alice joining');
  const inRoom = await admin(server.adminPort, 'GET', '/api/rooms/lounge');
  assert.deepEqual(inRoom.body.occupants.map((o: { nick: string }) => o.nick).sort(), ['Alice', 'Bob']);

  await bob.send(groupchat('hello room, from xmpp.js'));
  await first.getByText('hello room, from xmpp.js').first().waitFor();
  const box = messageBox(first);
  await box.fill('hello back, from converse');
  await box.press('Enter');
  const echoed = await bobReceives((s) => s.is('message') && s.getChildText('body') === 'hello back, from converse', 'the Converse message');
  assert.equal(echoed.attrs.from, `${ROOM}/Alice`);

  // The operator turns archiving on and discussion history off: a new profile can only get
  // what follows from the archive.
  const changed = await admin(server.adminPort, 'PATCH', '/api/rooms/lounge', { json: { options: { enablearchiving: true, historylength: 0 } } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  await bob.send(groupchat('kept in the archive'));
  const archived = await bobReceives((s) => s.is('message') && s.getChildText('body') === 'kept in the archive', 'the archived message');
  assert.ok(archived.getChild('stanza-id', 'urn:xmpp:sid:0'), 'the room archived it');
  await first.getByText('kept in the archive').first().waitFor();
  // Alice logs out (closing the page alone would leave a session waiting to be resumed, XEP-0198).
  await first.evaluate(() => (window as unknown as { xmppdApi: { user: { logout(): Promise<unknown> } } }).xmppdApi.user.logout());
  await first.context().close();
  await bobReceives((s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice` && s.attrs.type === 'unavailable', 'Alice leaving');

  const second = await aliceInRoom();
  await second.getByText('kept in the archive').first().waitFor();
  assert.equal(await second.getByText('hello room, from xmpp.js').count(), 0, 'what came before archiving was never kept');
  await second.context().close();
});
