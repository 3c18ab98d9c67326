// Converse.js (the release bundle of the converse.js package, no build step) in a page of a
// small HTTP server of the test's own, logging in over WebSocket with the given account. A
// hook plugin hands the test Converse's API as window.xmppdApi.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

// The package exports its dist/ files: the bundle that runs without a build step.
const CONVERSE_DIST = dirname(createRequire(import.meta.url).resolve('converse.js/dist/converse.min.js'));

export interface ConversePages {
  /** The page's URL. */
  base: string;
  close(): void;
}

function indexHtml(wsUrl: string, jid: string, password: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>converse</title>
<link rel="stylesheet" href="/converse.min.css"><script src="/converse.min.js"></script></head>
<body><script>
converse.plugins.add('xmppd-test-hook', { initialize() { window.xmppdApi = this._converse.api; } });
converse.initialize({
  websocket_url: ${JSON.stringify(wsUrl)},
  discover_connection_methods: false,
  jid: ${JSON.stringify(jid)}, password: ${JSON.stringify(password)}, auto_login: true,
  whitelisted_plugins: ['xmppd-test-hook'],
  view_mode: 'fullscreen',
  persistent_store: 'sessionStorage',
  loglevel: 'warn',
});
</script></body></html>`;
}

/** Serves Converse logging in as `jid` to the server's WebSocket endpoint `wsUrl`. */
export function serveConverse(wsUrl: string, jid: string, password: string): Promise<ConversePages> {
  const files: Record<string, [string, string]> = {
    '/converse.min.js': ['converse.min.js', 'text/javascript'],
    '/converse.min.css': ['converse.min.css', 'text/css'],
  };
  const app = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const file = files[path];
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(indexHtml(wsUrl, jid, password));
    } else if (file) {
      res.writeHead(200, { 'content-type': file[1] }).end(readFileSync(join(CONVERSE_DIST, file[0])));
    } else {
      // Converse asks for its locale files, emoji and the like: not needed here.
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => app.listen(0, '127.0.0.1', () => resolve({
    base: `http://127.0.0.1:${(app.address() as net.AddressInfo).port}/`,
    close: () => app.close(),
  })));
}

/** Converse in a fresh browser profile (nothing kept from before), once it is connected. */
export async function converseInNewProfile(browser: Browser, pages: ConversePages): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(pages.base);
  await page.waitForFunction(() => (window as unknown as { xmppdApi?: { connection: { connected(): boolean } } }).xmppdApi?.connection.connected());
  return page;
}

/** Converse's message box in the open chat or room. */
export function messageBox(page: Page) {
  return page.locator('converse-chat-textarea textarea, textarea.chat-textarea').first();
}
