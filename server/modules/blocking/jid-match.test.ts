import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JID } from '../../jid/jid.ts';
import { isBlocked } from './jid-match.ts';

const blocked = (entries: string[], jid: string): boolean => isBlocked(new Set(entries), JID.parse(jid));

test('an empty blocklist blocks nothing', () => {
  assert.equal(blocked([], 'romeo@montague.net/orchard'), false);
});

test('a full JID blocks only that resource', () => {
  assert.equal(blocked(['romeo@montague.net/orchard'], 'romeo@montague.net/orchard'), true);
  assert.equal(blocked(['romeo@montague.net/orchard'], 'romeo@montague.net/garden'), false);
  assert.equal(blocked(['romeo@montague.net/orchard'], 'romeo@montague.net'), false);
});

test('a bare JID blocks every resource of the account', () => {
  assert.equal(blocked(['romeo@montague.net'], 'romeo@montague.net'), true);
  assert.equal(blocked(['romeo@montague.net'], 'romeo@montague.net/orchard'), true);
  assert.equal(blocked(['romeo@montague.net'], 'benvolio@montague.net'), false);
});

test('domain/resource blocks that resource of the domain and of its users', () => {
  assert.equal(blocked(['montague.net/orchard'], 'montague.net/orchard'), true);
  assert.equal(blocked(['montague.net/orchard'], 'romeo@montague.net/orchard'), true);
  assert.equal(blocked(['montague.net/orchard'], 'romeo@montague.net/garden'), false);
});

test('a domain blocks the domain, its users and its subdomains, but not look-alikes', () => {
  assert.equal(blocked(['montague.net'], 'montague.net'), true);
  assert.equal(blocked(['montague.net'], 'romeo@montague.net/orchard'), true);
  assert.equal(blocked(['montague.net'], 'chat.montague.net'), true);
  assert.equal(blocked(['montague.net'], 'room@muc.chat.montague.net/nick'), true);
  assert.equal(blocked(['montague.net'], 'evilmontague.net'), false);
  assert.equal(blocked(['chat.montague.net'], 'montague.net'), false);
});
