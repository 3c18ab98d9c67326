import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { deriveUserKeys } from '../../auth/scram-keys.ts';
import { VerifiedPasswordCache } from '../../auth/verified-password-cache.ts';
import type { UserRecord } from '../../storage/types.ts';
import type { SaslContext, SaslStep } from './mechanism.ts';
import { MECHANISMS, createMechanism } from './registry.ts';

const users = new Map<string, UserRecord>([
  ['juliet', { username: 'juliet', ...(await deriveUserKeys('r0meo', 4096)), createdAt: new Date(0) }],
]);
let lookups = 0;
const ctx: SaslContext = {
  domain: 'capulet.lit',
  secure: true,
  fakeSaltSecret: randomBytes(32),
  lookup: async (name) => { lookups++; return users.get(name) ?? null; },
};

function plain(context: SaslContext = ctx) {
  const m = createMechanism('PLAIN', context);
  assert.ok(m);
  assert.equal(m.name, 'PLAIN');
  return m;
}

const login = (authzid: string, authcid: string, password: string) => plain().step(Buffer.from(`${authzid}\0${authcid}\0${password}`));

function assertFailure(step: SaslStep, condition: string): void {
  assert.equal(step.kind, 'failure', JSON.stringify(step));
  assert.equal((step as { condition: string }).condition, condition, JSON.stringify(step));
}

test('MECHANISMS lists the offer order, and createMechanism knows exactly those', () => {
  assert.deepEqual(MECHANISMS, ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
  for (const name of MECHANISMS) assert.equal(createMechanism(name, ctx)?.name, name);
  for (const name of ['DIGEST-MD5', 'SCRAM-SHA-256-PLUS', 'plain', 'ANONYMOUS', '']) assert.equal(createMechanism(name, ctx), null);
});

test('PLAIN: the right password succeeds with the prepared username', async () => {
  assert.deepEqual(await login('', 'juliet', 'r0meo'), { kind: 'success', username: 'juliet' });
  assert.deepEqual(await login('', 'Juliet', 'r0meo'), { kind: 'success', username: 'juliet' });
});

test('PLAIN: a third-party client (sasl-plain, used by xmpp.js) authenticates', async () => {
  const Client = createRequire(import.meta.url)('sasl-plain');
  const response: string = new Client().response({ username: 'juliet', password: 'r0meo' });
  assert.deepEqual(await plain().step(Buffer.from(response)), { kind: 'success', username: 'juliet' });
});

test('PLAIN: wrong password and unknown user both fail with not-authorized', async () => {
  assertFailure(await login('', 'juliet', 'romeo'), 'not-authorized');
  assertFailure(await login('', 'juliet', 'r0meo '), 'not-authorized');
  assertFailure(await login('', 'romeo', 'r0meo'), 'not-authorized');
  assertFailure(await login('', 'juliet@capulet.lit', 'r0meo'), 'not-authorized');
});

test('PLAIN: authzid naming the user is accepted, any other is invalid-authzid', async () => {
  assert.deepEqual(await login('juliet@capulet.lit', 'juliet', 'r0meo'), { kind: 'success', username: 'juliet' });
  assert.deepEqual(await login('JULIET@Capulet.LIT', 'juliet', 'r0meo'), { kind: 'success', username: 'juliet' });
  for (const authzid of ['romeo@capulet.lit', 'juliet@montague.lit', 'juliet@capulet.lit/balcony', 'capulet.lit', 'juliet']) {
    assertFailure(await login(authzid, 'juliet', 'r0meo'), 'invalid-authzid');
  }
  // Credentials are checked first, so a bad authzid is no oracle for the password.
  assertFailure(await login('romeo@capulet.lit', 'juliet', 'wrong'), 'not-authorized');
});

test('PLAIN: malformed messages fail with malformed-request', async () => {
  const cases = [
    Buffer.alloc(0),
    Buffer.from('julietr0meo'),
    Buffer.from('juliet\0r0meo'),
    Buffer.from('\0juliet\0r0meo\0'),
    Buffer.from('\0\0r0meo'),
    Buffer.from('\0juliet\0'),
    Buffer.from([0, 0x6a, 0xff, 0, 0x61]),
  ];
  for (const message of cases) assertFailure(await plain().step(message), 'malformed-request');
});

test('PLAIN: no initial response gets an empty challenge, then the response is checked', async () => {
  const m = plain();
  assert.deepEqual(await m.step(null), { kind: 'challenge', data: Buffer.alloc(0) });
  assert.deepEqual(await m.step(Buffer.from('\0juliet\0r0meo')), { kind: 'success', username: 'juliet' });
  assertFailure(await m.step(Buffer.from('\0juliet\0r0meo')), 'malformed-request');
});

test('PLAIN: a username that cannot be a localpart is refused without a lookup', async () => {
  const before = lookups;
  assertFailure(await login('', 'jul iet', 'r0meo'), 'not-authorized');
  assert.equal(lookups, before);
});

test('PLAIN: storage errors become temporary-auth-failure, never a throw', async () => {
  const broken: SaslContext = { ...ctx, lookup: async () => { throw new Error('database down'); } };
  assertFailure(await plain(broken).step(Buffer.from('\0juliet\0r0meo')), 'temporary-auth-failure');
  const corrupt: SaslContext = {
    ...ctx,
    lookup: async () => ({ ...users.get('juliet')!, scramSha256: { salt: 'AAAA', iterations: -1, storedKey: '', serverKey: '' } }),
  };
  assertFailure(await plain(corrupt).step(Buffer.from('\0juliet\0r0meo')), 'temporary-auth-failure');
});

test('PLAIN: with a password cache, a verified password is remembered and then trusted', async () => {
  const passwordCache = new VerifiedPasswordCache(100);
  const cached: SaslContext = { ...ctx, passwordCache };
  assertFailure(await plain(cached).step(Buffer.from('\0juliet\0romeo')), 'not-authorized');
  assert.equal(passwordCache.size, 0, 'failures are not remembered');
  assert.deepEqual(await plain(cached).step(Buffer.from('\0juliet\0r0meo')), { kind: 'success', username: 'juliet' });
  assert.equal(passwordCache.has('juliet', 'r0meo', users.get('juliet')!.scramSha256), true);
  assertFailure(await plain(cached).step(Buffer.from('\0juliet\0romeo')), 'not-authorized');

  // Keys that no PBKDF2 could match: success proves the cache was consulted instead.
  const unmatchable = { salt: 'AAAA', iterations: 4096, storedKey: 'AAAA', serverKey: 'AAAA' };
  const tybalt: UserRecord = { username: 'tybalt', scramSha1: unmatchable, scramSha256: unmatchable, createdAt: new Date(0) };
  passwordCache.add('tybalt', 'sword', unmatchable);
  const withTybalt: SaslContext = { ...cached, lookup: async (name) => (name === 'tybalt' ? tybalt : null) };
  assert.deepEqual(await plain(withTybalt).step(Buffer.from('\0tybalt\0sword')), { kind: 'success', username: 'tybalt' });
  assertFailure(await plain({ ...withTybalt, passwordCache: undefined }).step(Buffer.from('\0tybalt\0sword')), 'not-authorized');
});

test('PLAIN: admit is asked with the prepared name before the lookup, and its refusal is the answer', async () => {
  const asked: string[] = [];
  const before = lookups;
  const refusing: SaslContext = { ...ctx, admit: async (name) => { asked.push(name); return { kind: 'failure', condition: 'temporary-auth-failure', text: 'wait' } as const; } };
  assert.deepEqual(await plain(refusing).step(Buffer.from('\0Juliet\0r0meo')), { kind: 'failure', condition: 'temporary-auth-failure', text: 'wait' });
  assert.deepEqual(asked, ['juliet']);
  assert.equal(lookups, before, 'nothing was looked up, no password checked');
  const admitting: SaslContext = { ...ctx, admit: async (name) => { asked.push(name); return null; } };
  assert.deepEqual(await plain(admitting).step(Buffer.from('\0juliet\0r0meo')), { kind: 'success', username: 'juliet' });
  assertFailure(await plain(admitting).step(Buffer.from('\0jul iet\0r0meo')), 'not-authorized');
  assert.deepEqual(asked, ['juliet', 'juliet'], 'a name that cannot be prepared is refused before admit');
});
