// Converse.js, the web client nobody here wrote, in Debian's Chromium against a real server
// over WebSocket: it logs in, receives a message, sends one, and in a new browser profile
// (nothing kept from before, as after clearing the browser) finds both again in the chat's
// history, which it can only get from the server's message archive (XEP-0313).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../console/browser.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { converseInNewProfile, messageBox, serveConverse, type ConversePages } from './converse-page.ts';

let server: TestServer;
let pages: ConversePages;
let browser: Browser;
let bob: RawClient;

/** A fresh browser profile logged in as alice, with the chat with bob open. */
async function aliceInNewProfile(): Promise<Page> {
  const page = await converseInNewProfile(browser, pages);
  await page.evaluate(() => (window as unknown as { xmppdApi: { chats: { open(jid: string): Promise<unknown> } } }).xmppdApi.chats.open('bob@localhost'));
  return page;
}

before(async () => {
  server = await startTestServer();
  await server.addUser('alice', 'alice-pw');
  await server.addUser('bob', 'bob-pw');
  pages = await serveConverse(`ws://127.0.0.1:${server.httpPort}/ws`, 'alice@localhost', 'alice-pw');
  browser = await launchChromium();
  bob = await RawClient.login(server.c2sPort, 'bob', 'bob-pw', { resource: 'desk', presence: true });
});

after(async () => {
  bob?.destroy();
  await browser?.close();
  pages?.close();
  await server?.stop();
});

test('Converse.js chats over WebSocket and finds the conversation again from the archive in a new profile', async () => {
  const first = await aliceInNewProfile();
  bob.send(`<message to='alice@localhost' type='chat' id='m1'><body>hello from bob</body></message>`);
  await first.getByText('hello from bob').first().waitFor();

  // alice answers through Converse's own message form.
  const box = messageBox(first);
  await box.fill('hi bob, from converse');
  await box.press('Enter');
  const got = await bob.expect((el) => el.name === 'message' && el.getChildText('body') === 'hi bob, from converse');
  assert.equal(got.attrs.from?.split('/')[0], 'alice@localhost');
  await first.context().close();

  // Nothing of the first profile remains: the history can only come from the server.
  const second = await aliceInNewProfile();
  await second.getByText('hello from bob').first().waitFor();
  await second.getByText('hi bob, from converse').first().waitFor();
  await second.context().close();
});
