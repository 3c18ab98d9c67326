// The admin console against a real server process: its page and the API behind it over
// plain HTTP (headers that keep the page safe, the CSRF check), then an operator's rounds in a
// real browser: an account's life on the Users and Sessions pages with a real XMPP client
// logged in as it (created, found, disconnected, its password changed, deleted); then
// logging in, the dashboard, plugins, properties, the cluster switch (no clustering plugin
// installed: the page says so, the switch still works) and logging out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { bundleConsole } from '../../scripts/bundle-console.ts';
import { CONSOLE_CSP } from '../../server/http/admin/console-assets.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { admin, ADMIN_PROPERTIES, ADMIN_USER, exampleArchive } from '../plugins/fixtures.ts';
import { confirmations, launchChromium, logInAs, shows, watchedPage } from './browser.ts';

const PASSWORD = ADMIN_USER[1];
let server: TestServer;
let base: string;

before(async () => {
  // The server serves dist/console/: build it from the sources under test.
  await bundleConsole();
  server = await startTestServer({ properties: { ...ADMIN_PROPERTIES, 'admin.login.max-failures': '3' } });
  await server.addUser('admin', PASSWORD);
  base = `http://127.0.0.1:${server.adminPort}`;
});

after(async () => {
  await server?.stop();
});

const property = async (name: string): Promise<any> => (await admin(server.adminPort, 'GET', `/api/properties/${name}`)).body;

test('the console page is served with a strict CSP and the API behind it still wants the CSRF token', async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP);
  assert.match(CONSOLE_CSP, /script-src 'self'/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is a file');
  const script = /<script type="module" src="(\/console\/console-[A-Z0-9]{8}\.js)">/.exec(html)?.[1];
  assert.ok(script, html);
  const js = await fetch(`${base}${script}`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await fetch(`${base}/console/..%2F..%2Fpackage.json`)).status, 404);

  // Logged in as the console is, a change without the token is refused and changes nothing.
  const login = await admin(server.adminPort, 'POST', '/api/session', { user: null, json: { jid: 'admin', password: PASSWORD } });
  assert.equal(login.status, 200);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const withoutToken: Record<string, string>[] = [{ cookie }, { cookie, 'x-csrf-token': 'not-the-token' }];
  for (const headers of withoutToken) {
    const forged = await admin(server.adminPort, 'PUT', '/api/properties/xmpp.offline.max-per-user', { user: null, headers, json: { value: 7 } });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.code, 'CSRF_TOKEN_INVALID');
  }
  assert.equal((await property('xmpp.offline.max-per-user')).value, 100);

  // /api/status is the client listener's /status, behind the login.
  assert.equal((await admin(server.adminPort, 'GET', '/api/status', { user: null })).status, 401);
  const status = (await admin(server.adminPort, 'GET', '/api/status')).body;
  const publicStatus = await (await fetch(`http://127.0.0.1:${server.httpPort}/status`)).json();
  assert.deepEqual(Object.keys(status).sort(), Object.keys(publicStatus).sort());
  assert.equal(status.state, 'running');
  assert.equal(status.node, publicStatus.node);
});

/** Logs in through the form as the administrator; resolves on the dashboard. */
const logIn = (page: Page): Promise<void> => logInAs(page, base, ADMIN_USER[0], PASSWORD);

// Before the round below, whose last part locks logins from this address out for a while.
test('an operator creates an account, finds it, disconnects its client, changes its password and deletes it', async () => {
  const FIRST = 'carol-first-secret';
  const SECOND = 'carol-second-secret';
  // Two pages of accounts (20 a page): admin, carol and these 25.
  for (let i = 0; i < 25; i++) {
    const made = await admin(server.adminPort, 'POST', '/api/users', { json: { username: `page-${String(i).padStart(2, '0')}`, password: 'page-secret' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  }
  const browser = await launchChromium();
  const clients: RawClient[] = [];
  try {
    const { page, cspViolations, pageErrors } = await watchedPage(browser);
    const { asked: dialogs, refuseNext } = confirmations(page);
    await logIn(page);

    // Users: create carol; the same name again (in other case) and a JID of another domain
    // are refused with the API's reasons.
    await page.getByRole('link', { name: 'Users' }).click();
    await shows(page, '#users-range', '1–20 of 26');
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Password', { exact: true }).fill(FIRST);
    await page.getByRole('button', { name: 'Create' }).click();
    await shows(page, '#user-create-message [role=status]', 'Created carol@localhost.');
    await shows(page, '#users-range', '1–20 of 27');
    await page.getByLabel('User name').fill('Carol');
    await page.getByLabel('Password', { exact: true }).fill('another-secret');
    await page.getByRole('button', { name: 'Create' }).click();
    await shows(page, '#user-create-message [role=alert]', 'user carol@localhost already exists');
    await page.getByLabel('User name').fill('carol@elsewhere.example');
    await page.getByRole('button', { name: 'Create' }).click();
    await shows(page, '#user-create-message [role=alert]', "'carol@elsewhere.example' is not a user name or a bare JID of localhost");

    // Paging through all of them, then searching.
    await page.getByRole('button', { name: 'Next page' }).click();
    await shows(page, '#users-range', '21–27 of 27');
    await page.locator('tr[data-user="page-24"]').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await shows(page, '#users-range', '1–20 of 27');
    assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
    await page.getByLabel('Search').fill('CARO');
    await shows(page, '#users-range', '1–1 of 1');
    assert.deepEqual(await page.locator('table.users tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user'))), ['carol']);
    const carol = page.locator('tr[data-user="carol"]');
    await shows(page, 'tr[data-user="carol"]', 'carol@localhost');

    // A real client logs in as carol: the list counts its session, the Sessions page shows it.
    const client = await RawClient.login(server.c2sPort, 'carol', FIRST, { resource: 'console', presence: true });
    clients.push(client);
    assert.equal(client.jid, 'carol@localhost/console');
    await page.getByLabel('Search').press('Enter');
    await shows(page, 'tr[data-user="carol"] td.number', '1');

    await page.getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator('tr[data-jid="carol@localhost/console"]');
    await row.filter({ hasText: 'yes' }).waitFor();
    assert.equal(await row.locator('td').nth(1).textContent(), (await admin(server.adminPort, 'GET', '/api/status')).body.node);
    // How it is connected: the address, the transport with TLS or not, and when it logged in.
    assert.equal(await row.locator('td.address').textContent(), '127.0.0.1');
    assert.equal(await row.locator('td.connection').textContent(), 'TCP, no TLS');
    assert.notEqual(await row.locator('td.since').textContent(), '');
    await page.getByLabel('User').fill('nobody');
    await shows(page, 'main', 'nobody has no session online.');
    await page.getByLabel('User').fill('carol');
    await shows(page, '#sessions-count', '1 online');

    // Disconnect: confirmed, the client gets policy-violation, the list loses the row.
    await page.getByRole('button', { name: 'Disconnect carol@localhost/console' }).click();
    assert.equal(await client.expectStreamError(), 'policy-violation');
    assert.match(dialogs.at(-1)!, /^Disconnect carol@localhost\/console\? .*policy-violation/);
    await shows(page, '#sessions-message [role=status]', 'Disconnected carol@localhost/console.');
    await row.waitFor({ state: 'detached' });
    await shows(page, 'main', 'carol has no session online.');

    // A new password: the old one is refused, the new one logs in.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Search').fill('carol');
    await shows(page, '#users-range', '1–1 of 1');
    await carol.getByRole('button', { name: 'Change the password of carol' }).click();
    await page.getByLabel('New password for carol').fill(SECOND);
    await carol.getByRole('button', { name: 'Save' }).click();
    await shows(page, '#users-message [role=status]', 'The password of carol@localhost is changed.');
    const refused = await RawClient.connect(server.c2sPort);
    clients.push(refused);
    await refused.open();
    assert.equal((await refused.authPlain('carol', FIRST)).name, 'failure');
    const again = await RawClient.login(server.c2sPort, 'carol', SECOND, { resource: 'again', presence: true });
    clients.push(again);
    assert.equal(again.jid, 'carol@localhost/again');

    // Deleting asks first, saying what goes; refused, nothing happens.
    await page.getByLabel('Search').press('Enter');
    await shows(page, 'tr[data-user="carol"] td.number', '1');
    refuseNext();
    await carol.getByRole('button', { name: 'Delete carol' }).click();
    assert.match(dialogs.at(-1)!, /^Delete the account carol@localhost\? Its session online ends at once, on every node, and everything it owns is deleted/);
    assert.equal((await admin(server.adminPort, 'GET', '/api/users?search=carol')).body.total, 1);
    // Confirmed: the client's stream ends, and the account is gone.
    await carol.getByRole('button', { name: 'Delete carol' }).click();
    assert.equal(await again.expectStreamError(), 'not-authorized');
    await shows(page, '#users-message [role=status]', 'Deleted carol@localhost');
    await shows(page, 'main', 'No user name contains “carol”.');
    assert.deepEqual((await admin(server.adminPort, 'GET', '/api/users?search=carol')).body, { users: [], total: 0 });
    assert.equal(dialogs.length, 3);

    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  } finally {
    for (const c of clients) c.destroy();
    await browser.close();
  }
});

test('an operator logs in, reads the dashboard, manages plugins, edits properties, flips the cluster switch and logs out', async () => {
  const browser = await launchChromium();
  try {
    const { page, cspViolations, pageErrors } = await watchedPage(browser);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${base}/`);

    // A wrong password is answered on the form.
    await page.getByLabel('JID').fill('admin@localhost');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await shows(page, '[role=alert]', 'Wrong JID or password.');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await shows(page, '#node-state', 'running');
    assert.equal(await page.locator('#node-state').getAttribute('data-state'), 'running');
    assert.equal(await page.getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current'), 'page');
    await shows(page, 'main', 'Connections');
    await shows(page, 'header', 'admin@localhost');
    // The live chart draws its lines from the second sample on (one every 5 s).
    await shows(page, '#live-chart', 'Stanzas received per second');
    await page.locator('#live-chart polyline').first().waitFor({ state: 'attached', timeout: 15_000 });

    // Plugins: upload the example plugin, see it loaded and its page listed, remove it.
    await page.getByRole('link', { name: 'Plugins', exact: true }).click();
    await shows(page, 'main', 'No plugins are installed');
    await page.getByLabel('Plugin archive (.tgz)').setInputFiles({ name: 'example.tgz', mimeType: 'application/gzip', buffer: await exampleArchive() });
    await page.getByRole('button', { name: 'Install' }).click();
    await shows(page, '#plugins-message', 'Installed example 1.0.0');
    await shows(page, 'table.plugins', 'loaded');
    await page.getByRole('link', { name: 'Plugin pages' }).click();
    assert.equal(await page.getByRole('link', { name: 'Echo statistics in a new tab' }).getAttribute('href'), '/plugins/example/stats');
    // The only page is shown inside the console, framed, behind the same login.
    const framed = page.frameLocator('#plugin-page');
    await framed.locator('body').waitFor();
    assert.equal(await page.locator('#plugin-page').getAttribute('src'), '/plugins/example/stats');
    assert.ok(((await framed.locator('body').textContent()) ?? '').length > 0, 'the plugin page has content');

    // Server information: the listeners actually bound and the certificate with its expiry.
    await page.getByRole('link', { name: 'Server' }).click();
    await shows(page, '#listeners', String(server.c2sPort));
    await shows(page, 'main', 'SQLite');
    await shows(page, '#certificate-expiry', 'in ');
    await shows(page, 'main', 'generated by the server');

    // The log: this node's recent lines, filtered by level.
    await page.getByRole('link', { name: 'Log' }).click();
    await shows(page, '#log-lines', 'plugin loaded');
    await page.getByLabel('Lowest level shown').selectOption('error');
    // The table drawn from the new answer no longer has the info line, and whatever it shows is an error.
    await page.locator('#log-lines', { hasText: 'plugin loaded' }).waitFor({ state: 'detached' });
    await page.locator('#log-lines').or(page.getByText('No line at this level')).first().waitFor();
    const levels = await page.locator('#log-lines tr').evaluateAll((rows) => rows.map((r) => r.className));
    assert.ok(levels.every((c) => c === 'log-error'), `only error lines: ${levels.join(' ')}`);
    await page.getByRole('link', { name: 'Plugins', exact: true }).click();
    await page.getByRole('button', { name: 'Remove example' }).click();
    await shows(page, '#plugins-message', 'Removed example.');
    assert.deepEqual((await admin(server.adminPort, 'GET', '/api/plugins')).body.plugins, []);

    // Properties: a value within bounds is stored; one beyond is refused beside the field.
    await page.getByRole('link', { name: 'Properties' }).click();
    await page.getByLabel('Filter').fill('offline.max');
    const row = page.locator('tr[data-property="xmpp.offline.max-per-user"]');
    await row.waitFor();
    assert.equal(await page.locator('tr[data-property="admin.jids"]').isHidden(), true, 'the filter hides the rest');
    await page.getByLabel('xmpp.offline.max-per-user', { exact: true }).fill('250');
    await row.getByRole('button', { name: 'Save' }).click();
    await shows(page, 'tr[data-property="xmpp.offline.max-per-user"] [role=status]', 'Saved.');
    assert.equal((await property('xmpp.offline.max-per-user')).value, 250);
    await page.getByLabel('xmpp.offline.max-per-user', { exact: true }).fill('100001');
    await page.locator('tr[data-property="xmpp.offline.max-per-user"]').getByRole('button', { name: 'Save' }).click();
    await shows(page, 'tr[data-property="xmpp.offline.max-per-user"] [role=alert]', 'property xmpp.offline.max-per-user: 100001 is above the maximum 100000');
    assert.equal((await property('xmpp.offline.max-per-user')).value, 250);

    // A reload keeps the session, and the token comes back with it: changes still go through.
    await page.reload();
    await page.locator('tr[data-property="xmpp.offline.max-per-user"]').getByRole('button', { name: 'Default' }).click();
    await shows(page, 'tr[data-property="xmpp.offline.max-per-user"] [role=status]', 'Back to the default.');
    assert.equal((await property('xmpp.offline.max-per-user')).isDefault, true);

    // Clustering: no plugin here, which the page says; the switch is stored all the same.
    await page.getByRole('link', { name: 'Clustering' }).click();
    await shows(page, '#cluster-plugin', 'No clustering plugin is installed on this node');
    await shows(page, '#cluster-state', 'standalone');
    const toggle = page.getByRole('switch', { name: 'Clustering for all nodes' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    await toggle.click();
    await page.getByRole('switch', { name: 'Clustering for all nodes', checked: true }).waitFor();
    await shows(page, '#cluster-switch-message', 'Clustering is now on for every node');
    assert.equal((await property('clustering.enabled')).stored, 'true');
    await toggle.click();
    await page.getByRole('switch', { name: 'Clustering for all nodes', checked: false }).waitFor();
    assert.equal((await property('clustering.enabled')).stored, 'false');
    // The consistency check needs a cluster; standalone, the page says why there is none.
    await page.getByRole('button', { name: 'Check' }).click();
    await shows(page, '#cluster-consistency-result', 'this node is not in a cluster');

    // Logging out ends the session: back at the login form, and a reload stays there.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('JID').waitFor();
    await page.reload();
    await page.getByLabel('JID').waitFor();
    assert.equal(await page.locator('nav').count(), 0);

    // Too many failures: the console says how long to wait, from the server's Retry-After.
    await page.getByLabel('JID').fill('admin');
    for (let attempt = 1; attempt <= 4; attempt++) {
      await page.getByLabel('Password').fill(`guess-${attempt}`);
      await page.getByRole('button', { name: 'Log in' }).click();
      await shows(page, '[role=alert]', attempt <= 3 ? 'Wrong JID or password.' : /Too many failed logins .* Try again in \d+ (min|s)/);
      await page.getByRole('button', { name: 'Log in', disabled: false }).waitFor();
    }

    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
  }
});
