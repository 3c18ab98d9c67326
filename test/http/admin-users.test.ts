// Users and online sessions through the admin API, against a real server process and real
// XMPP connections: create, log in, list, kick, change the password, delete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin } from '../plugins/fixtures.ts';

let server: TestServer;
const clients: RawClient[] = [];

before(async () => {
  server = await startTestServer({ properties: ADMIN_PROPERTIES });
  await server.addUser('admin', ADMIN_USER[1]);
});

after(async () => {
  for (const c of clients) c.destroy();
  await server.stop();
});

const api = (method: string, path: string, json?: unknown) => admin(server.adminPort, method, path, json === undefined ? {} : { json });

async function login(user: string, password: string, resource: string): Promise<RawClient> {
  const c = await RawClient.login(server.c2sPort, user, password, { resource });
  clients.push(c);
  return c;
}

test('create users, then list and search them; bad names, duplicates and bad pages are refused', async () => {
  for (const username of ['zoe', 'Yann@localhost', 'xavier_1']) {
    const created = await api('POST', '/api/users', { username, password: `${username}-pw` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  assert.deepEqual((await api('POST', '/api/users', { username: 'yann', password: 'x' })).body.code, 'USER_EXISTS');
  assert.equal((await api('POST', '/api/users', { username: 'bob@elsewhere.example', password: 'x' })).body.code, 'USER_INVALID');
  assert.equal((await api('POST', '/api/users', { username: 'a b', password: 'x' })).status, 400);
  assert.equal((await api('POST', '/api/users', { username: 'nopass' })).status, 400);

  const all = await api('GET', '/api/users');
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.users.map((u: { username: string }) => u.username), ['admin', 'xavier_1', 'yann', 'zoe']);
  assert.equal(all.body.total, 4);
  const found = await api('GET', '/api/users?search=AV&limit=1');
  assert.deepEqual(found.body, { users: [{ username: 'xavier_1', jid: 'xavier_1@localhost', sessions: 0 }], total: 1 });
  assert.equal((await api('GET', '/api/users?limit=0')).status, 400);
});

test('sessions online are listed with their presence, and an administrator can end one', async () => {
  const phone = await login('zoe', 'zoe-pw', 'phone');
  const beforeLogin = Date.now() - 1000;
  const desk = await login('zoe', 'zoe-pw', 'desk');
  desk.send(`<presence><show>away</show><status>lunch</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.org/deskclient' ver='x'/></presence>`);
  await desk.expect((el) => el.name === 'presence');
  const online = await api('GET', '/api/online?user=zoe');
  assert.deepEqual(online.body.sessions.map((s: { jid: string }) => s.jid), ['zoe@localhost/desk', 'zoe@localhost/phone']);
  const deskView = online.body.sessions[0];
  assert.equal(deskView.available, true);
  assert.equal(deskView.show, 'away');
  assert.equal(deskView.status, 'lunch');
  // How it is connected, for an administrator looking for a misbehaving client.
  assert.equal(deskView.address, '127.0.0.1');
  assert.equal(deskView.transport, 'tcp');
  assert.equal(deskView.secure, false);
  assert.ok(Date.parse(deskView.since) >= beforeLogin && Date.parse(deskView.since) <= Date.now(), deskView.since);
  assert.equal(deskView.client, 'https://example.org/deskclient', 'the client named by its capabilities');
  assert.equal(online.body.sessions[1].client, undefined, 'a client that sent no capabilities is not named');
  assert.equal((await api('GET', '/api/users?search=zoe')).body.users[0].sessions, 2);

  const kicked = await api('DELETE', `/api/online/${encodeURIComponent('zoe@localhost/phone')}`);
  assert.equal(kicked.status, 204);
  assert.equal(await phone.expectStreamError(), 'policy-violation');
  assert.equal((await api('DELETE', `/api/online/${encodeURIComponent('zoe@localhost/phone')}`)).body.code, 'SESSION_NOT_FOUND');
  desk.send(`<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal((await desk.expect((el) => el.attrs.id === 'p1')).attrs.type, 'result', 'the other session goes on');
});

test('a new password replaces the old one; deleting the user ends its sessions', async () => {
  assert.equal((await api('PUT', '/api/users/yann/password', { password: 'new-secret' })).status, 204);
  await assert.rejects(login('yann', 'yann-pw', 'r'), /login of yann failed/);
  const yann = await login('yann', 'new-secret', 'r');
  assert.equal((await api('PUT', '/api/users/nobody/password', { password: 'x' })).body.code, 'USER_NOT_FOUND');

  assert.equal((await api('DELETE', '/api/users/yann')).status, 204);
  assert.equal(await yann.expectStreamError(), 'not-authorized');
  assert.equal((await api('DELETE', '/api/users/yann')).body.code, 'USER_NOT_FOUND');
  assert.equal((await api('GET', '/api/users?search=yann')).body.total, 0);
});

test('only administrators may manage users', async () => {
  const res = await admin(server.adminPort, 'GET', '/api/users', { user: ['zoe@localhost', 'zoe-pw'] });
  assert.equal(res.status, 403);
  assert.equal((await admin(server.adminPort, 'GET', '/api/online', { user: null })).status, 401);
});
