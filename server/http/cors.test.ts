import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corsHeaders, originPolicy } from './cors.ts';

test('"*" allows every origin, without credentials', () => {
  assert.equal(originPolicy('*')('https://any.example'), true);
  assert.deepEqual(corsHeaders('*', 'https://any.example'), { 'access-control-allow-origin': '*' });
});

test('a list allows exactly its origins, case and trailing slash aside', () => {
  const allowed = originPolicy(' https://Chat.example/ , https://other.example');
  assert.equal(allowed('https://chat.example'), true);
  assert.equal(allowed('https://other.example'), true);
  assert.equal(allowed('https://evil.example'), false);
  assert.equal(allowed(undefined), true, 'non-browser clients send no Origin and are not concerned');
  assert.equal(corsHeaders('https://chat.example', 'https://chat.example')['access-control-allow-credentials'], 'true');
  assert.deepEqual(corsHeaders('https://chat.example', 'https://evil.example'), {});
});

test('requests without an Origin get no CORS headers', () => {
  assert.deepEqual(corsHeaders('*', undefined), {});
});
