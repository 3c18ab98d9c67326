import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TagCounter } from './tag-counter.ts';

const STANZA = "<message from='a@b/c' type='chat'><body>hi</body></message>";

test('counts every closing tag in one chunk', () => {
  const c = new TagCounter('</message>');
  assert.equal(c.count(Buffer.from(STANZA.repeat(7))), 7);
  assert.equal(c.count(Buffer.from('<presence/>')), 0);
});

test('counts a tag cut at any point between chunks exactly once', () => {
  const input = Buffer.from(STANZA.repeat(3));
  for (let cut = 1; cut < input.length; cut++) {
    const c = new TagCounter('</message>');
    const n = c.count(input.subarray(0, cut)) + c.count(input.subarray(cut));
    assert.equal(n, 3, `cut at ${cut}`);
  }
});

test('a tag spread over many one-byte chunks is counted once', () => {
  const c = new TagCounter('</message>');
  let n = 0;
  for (const byte of Buffer.from(STANZA)) n += c.count(Buffer.from([byte]));
  assert.equal(n, 1);
});

test('a broken-off beginning that does not continue is not counted', () => {
  const c = new TagCounter('</message>');
  assert.equal(c.count(Buffer.from('<body>x</mess')), 0);
  assert.equal(c.count(Buffer.from('y></message>')), 1);
});

test('refuses tags it cannot count safely', () => {
  assert.throws(() => new TagCounter('message>'));
  assert.throws(() => new TagCounter('<a><b>'));
});
