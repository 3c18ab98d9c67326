// Converse.js, the web client nobody here wrote, in Debian's Chromium against a real server
// over WebSocket: it logs in, receives a message, sends one, and in a new browser profile
// (nothing kept from before, as after clearing the browser) finds both again in the chat's
// history, which it can only get from the server's message archive (XEP-0313).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../console/browser.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

// The package exports its dist/ files: the bundle that runs without a build step.
const CONVERSE_DIST = dirname(createRequire(import.meta.url).resolve('converse.js/dist/converse.min.js'));

let server: TestServer;
let pages: http.Server;
let base: string;
let browser: Browser;
let bob: RawClient;

/** The page Converse runs in; the hook plugin gives the test Converse's API as window.xmppdApi. */
function indexHtml(wsUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>converse</title>
<link rel="stylesheet" href="/converse.min.css"><script src="/converse.min.js"></script></head>
<body><script>
converse.plugins.add('xmppd-test-hook', { initialize() { window.xmppdApi = this._converse.api; } });
converse.initialize({
  websocket_url: ${JSON.stringify(wsUrl)},
  discover_connection_methods: false,
  jid: 'alice@localhost', password: 'alice-pw', auto_login: true,
  whitelisted_plugins: ['xmppd-test-hook'],
  view_mode: 'fullscreen',
  persistent_store: 'sessionStorage',
  loglevel: 'warn',
});
</script></body></html>`;
}

function servePages(wsUrl: string): Promise<http.Server> {
  const files: Record<string, [string, string]> = {
    '/converse.min.js': ['converse.min.js', 'text/javascript'],
    '/converse.min.css': ['converse.min.css', 'text/css'],
  };
  const app = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const file = files[path];
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(indexHtml(wsUrl));
    } else if (file) {
      res.writeHead(200, { 'content-type': file[1] }).end(readFileSync(join(CONVERSE_DIST, file[0])));
    } else {
      // Converse asks for its locale files, emoji and the like: not needed here.
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => app.listen(0, '127.0.0.1', () => resolve(app)));
}

/** A fresh browser profile logged in as alice, with the chat with bob open. */
async function aliceInNewProfile(): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(base);
  await page.waitForFunction(() => (window as unknown as { xmppdApi?: { connection: { connected(): boolean } } }).xmppdApi?.connection.connected());
  await page.evaluate(() => (window as unknown as { xmppdApi: { chats: { open(jid: string): Promise<unknown> } } }).xmppdApi.chats.open('bob@localhost'));
  return page;
}

before(async () => {
  server = await startTestServer();
  await server.addUser('alice', 'alice-pw');
  await server.addUser('bob', 'bob-pw');
  pages = await servePages(`ws://127.0.0.1:${server.httpPort}/ws`);
  base = `http://127.0.0.1:${(pages.address() as net.AddressInfo).port}/`;
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
  const box = first.locator('converse-chat-textarea textarea, textarea.chat-textarea').first();
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
