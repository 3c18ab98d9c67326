import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { SaslPrepError, deriveScramKeys, deriveUserKeys, saslPrep, verifyPassword } from './scram-keys.ts';

test('deriveScramKeys follows RFC 5802 section 3 (checked against an independent computation)', async () => {
  const salt = Buffer.from('QSXCR+Q6sek8bf92', 'base64');
  const keys = await deriveScramKeys('pencil', 'sha1', 4096, salt);
  const salted = pbkdf2Sync('pencil', salt, 4096, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  assert.deepEqual(keys, {
    salt: 'QSXCR+Q6sek8bf92',
    iterations: 4096,
    storedKey: createHash('sha1').update(clientKey).digest('base64'),
    serverKey: createHmac('sha1', salted).update('Server Key').digest('base64'),
  });
});

test('deriveUserKeys makes both hashes with distinct fresh 16-byte salts', async () => {
  const a = await deriveUserKeys('secret', 4096);
  const b = await deriveUserKeys('secret', 4096);
  assert.equal(Buffer.from(a.scramSha1.salt, 'base64').length, 16);
  assert.equal(Buffer.from(a.scramSha256.salt, 'base64').length, 16);
  assert.equal(Buffer.from(a.scramSha1.storedKey, 'base64').length, 20);
  assert.equal(Buffer.from(a.scramSha256.storedKey, 'base64').length, 32);
  assert.equal(Buffer.from(a.scramSha256.serverKey, 'base64').length, 32);
  assert.notEqual(a.scramSha1.salt, a.scramSha256.salt);
  assert.notEqual(a.scramSha256.salt, b.scramSha256.salt);
  assert.notEqual(a.scramSha256.storedKey, b.scramSha256.storedKey);
  assert.equal(a.scramSha256.iterations, 4096);
});

test('deriveScramKeys refuses a nonsensical iteration count', async () => {
  await assert.rejects(deriveScramKeys('x', 'sha256', 0), RangeError);
  await assert.rejects(deriveScramKeys('x', 'sha256', 1.5), RangeError);
});

test('verifyPassword accepts the password and nothing else', async () => {
  for (const hash of ['sha1', 'sha256'] as const) {
    const keys = await deriveScramKeys('correct horse', hash, 4096);
    assert.equal(await verifyPassword('correct horse', keys, hash), true);
    assert.equal(await verifyPassword('correct hors', keys, hash), false);
    assert.equal(await verifyPassword('Correct horse', keys, hash), false);
    assert.equal(await verifyPassword('correct horse\u0007', keys, hash), false, 'prohibited character: no match, no throw');
  }
});

test('verifyPassword compares prepared forms (RFC 4013 equivalents match)', async () => {
  const keys = await deriveScramKeys('\u2168', 'sha256', 1000); // ROMAN NUMERAL NINE
  assert.equal(await verifyPassword('IX', keys, 'sha256'), true);
  const spaced = await deriveScramKeys('a\u00a0b', 'sha256', 1000);
  assert.equal(await verifyPassword('a b', spaced, 'sha256'), true);
});

test('saslPrep: RFC 4013 section 3 examples and space mapping', () => {
  assert.equal(saslPrep('I\u00adX'), 'IX');
  assert.equal(saslPrep('user'), 'user');
  assert.equal(saslPrep('USER'), 'USER');
  assert.equal(saslPrep('\u00aa'), 'a');
  assert.equal(saslPrep('\u2168'), 'IX');
  assert.equal(saslPrep('pass\u2003word'), 'pass word');
  assert.equal(saslPrep('caf\u0065\u0301'), 'caf\u00e9');
  assert.equal(saslPrep(''), '');
  assert.throws(() => saslPrep('\u0007'), SaslPrepError);
  assert.throws(() => saslPrep('tab\there'), SaslPrepError);
  assert.throws(() => saslPrep('private\ue000'), SaslPrepError);
  assert.throws(() => saslPrep('rtl\u202e'), SaslPrepError);
});
