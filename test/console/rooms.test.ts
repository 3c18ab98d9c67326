// The console's Rooms page in a real browser against a real server process, with real XMPP
// clients in a room: the list with its occupants, creating a persistent room (and the
// refusals, with the API's reasons), a room in full, and destroying it after the
// confirmation, which its occupants hear of.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleConsole } from '../../scripts/bundle-console.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { NS_MUC_USER, SERVICE, createRoom, enter, presenceOf, startAdminTrio } from '../helpers/muc-client.ts';
import { ADMIN_USER, admin, waitFor } from '../plugins/fixtures.ts';
import { confirmations, launchChromium, logInAs, shows, watchedPage } from './browser.ts';

let server: TestServer;
let alice: RawClient;
let bob: RawClient;
let carol: RawClient;

before(async () => {
  await bundleConsole();
  ({ server, trio: [alice, bob, carol] } = await startAdminTrio());
});

after(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
});

test('an operator sees who is in a room, creates a persistent room, looks into one and destroys it', async () => {
  await createRoom(alice, 'coffee', 'Alice', { roomname: 'Coffee corner' });
  await enter(bob, 'coffee', 'Bob');
  const browser = await launchChromium();
  try {
    const { page, cspViolations, pageErrors } = await watchedPage(browser);
    const { asked: dialogs, refuseNext } = confirmations(page);
    await logInAs(page, `http://127.0.0.1:${server.adminPort}`, ADMIN_USER[0], ADMIN_USER[1]);
    await page.getByRole('link', { name: 'Rooms' }).click();
    await shows(page, 'main', SERVICE);
    await shows(page, 'tr[data-room="coffee"]', 'Coffee corner');
    await shows(page, 'tr[data-room="coffee"] td.number', '2');
    await shows(page, 'tr[data-room="coffee"]', 'temporary');

    // A new persistent room; the same name again, and an owner that is no JID, are refused with the reasons.
    await page.getByLabel('Room', { exact: true }).fill('board');
    await page.getByLabel('Owner').fill('carol@localhost');
    await page.getByLabel('Name', { exact: true }).fill('Board room');
    await page.getByLabel('Archived').check();
    await page.getByRole('button', { name: 'Create' }).click();
    await shows(page, '#room-create-message [role=status]', `Created board@${SERVICE}, owned by carol@localhost.`);
    await shows(page, '#room-detail h2', `Board room (board@${SERVICE})`);
    await shows(page, '#room-detail table.options', 'enablearchiving');
    await shows(page, 'tr[data-room="board"]', 'persistent');
    const made = await admin(server.adminPort, 'GET', '/api/rooms/board');
    assert.deepEqual([made.body.options.enablearchiving, made.body.options.publicroom, made.body.persistent], [true, true, true]);
    await page.getByLabel('Room', { exact: true }).fill('board');
    await page.getByLabel('Owner').fill('carol@localhost');
    await page.getByRole('button', { name: 'Create' }).click();
    await shows(page, '#room-create-message [role=alert]', `room board@${SERVICE} exists`);
    await page.getByLabel('Room', { exact: true }).fill('other');
    await page.getByLabel('Owner').fill('@@');
    await page.getByRole('button', { name: 'Create' }).click();
    await shows(page, '#room-create-message [role=alert]', "owner '@@' is not a bare JID");

    // The room in full: occupants with roles and full JIDs, affiliations.
    await page.getByRole('button', { name: 'Show coffee' }).click();
    await shows(page, '#room-detail h2', `Coffee corner (coffee@${SERVICE})`);
    await shows(page, '#room-detail table.occupants tr', /Alice\s*moderator\s*owner\s*alice@localhost\/a/);
    await shows(page, '#room-detail table.occupants tr', /Bob\s*participant\s*none\s*bob@localhost\/b/);
    await shows(page, '#room-detail table.affiliations', 'alice@localhost');

    // Destroy: refused at the confirmation first (nothing happens), then confirmed; the occupants are told.
    await page.getByLabel('Reason').fill('Closing time');
    await page.getByLabel('Alternate room').fill(`board@${SERVICE}`);
    refuseNext();
    await page.getByRole('button', { name: 'Destroy' }).click();
    await waitFor(() => dialogs.length === 1, 5_000, 'the confirmation');
    assert.match(dialogs[0] ?? '', new RegExp(`Destroy the room coffee@${SERVICE}\\? Its 2 occupants are told and leave, pointed to board@${SERVICE}`));
    assert.equal((await admin(server.adminPort, 'GET', '/api/rooms/coffee')).status, 200, 'a refused confirmation destroys nothing');
    const told = presenceOf(bob, 'coffee', 'Bob', 'unavailable');
    await page.getByRole('button', { name: 'Destroy' }).click();
    await shows(page, '#rooms-message [role=status]', `Destroyed coffee@${SERVICE}.`);
    const destroy = (await told).getChild('x', NS_MUC_USER)!.getChild('destroy')!;
    assert.deepEqual([destroy.attrs.jid, destroy.getChildText('reason')], [`board@${SERVICE}`, 'Closing time']);
    await page.locator('tr[data-room="coffee"]').waitFor({ state: 'detached' });
    assert.equal(dialogs.length, 2);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
  }
});
