import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminSessionStore, cookieValue, csrfTokenMatches } from './admin-sessions.ts';

test('a session lives while used and ends after the idle timeout, read at each use', () => {
  let now = 0;
  let idle = 60;
  const store = new AdminSessionStore(() => idle, () => now);
  const s = store.create('boss@localhost');
  now = 59_000;
  assert.equal(store.get(s.id)?.jid, 'boss@localhost');
  now = 118_000;
  assert.ok(store.get(s.id), 'each use starts the idle time again');
  idle = 10;
  now = 129_000;
  assert.equal(store.get(s.id), null, 'a shorter timeout applies at once');
  assert.equal(store.size, 0);
});

test('sessions of one account end together; ids and tokens are unguessable and distinct', () => {
  const store = new AdminSessionStore(() => 600);
  const a = store.create('a@x');
  const b = store.create('a@x');
  const c = store.create('c@x');
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.csrfToken, a.id);
  store.deleteFor('a@x');
  assert.equal(store.get(a.id), null);
  assert.equal(store.get(b.id), null);
  assert.ok(store.get(c.id));
  assert.ok(csrfTokenMatches(c, c.csrfToken));
  assert.ok(!csrfTokenMatches(c, undefined));
  assert.ok(!csrfTokenMatches(c, c.csrfToken.slice(1)));
});

test('cookie headers are parsed by name', () => {
  assert.equal(cookieValue('a=1; xmppd_admin=abc; b=2', 'xmppd_admin'), 'abc');
  assert.equal(cookieValue('xmppd_admin2=x', 'xmppd_admin'), undefined);
  assert.equal(cookieValue(undefined, 'xmppd_admin'), undefined);
});
