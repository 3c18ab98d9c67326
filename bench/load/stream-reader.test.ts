import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamReader } from './stream-reader.ts';

test('resolves once the pattern has arrived, across chunks, and consumes it', async () => {
  const r = new StreamReader('t');
  const p = r.expect(/<success[^>]*\/>/);
  r.push(Buffer.from('<succ'));
  r.push(Buffer.from("ess xmlns='x'/><iq"));
  assert.equal((await p)[0], "<success xmlns='x'/>");
  assert.equal(r.rest(), '<iq');
});

test('a stream error fails the wait with the error text', async () => {
  const r = new StreamReader('t');
  const p = r.expect(/<success\/>/);
  r.push(Buffer.from('<stream:error><conflict/></stream:error></stream:stream>'));
  await assert.rejects(p, /conflict/);
});

test('a closed connection fails the wait and every later one', async () => {
  const r = new StreamReader('t');
  const p = r.expect(/<a\/>/);
  r.close('connection closed');
  await assert.rejects(p, /connection closed/);
  await assert.rejects(r.expect(/<b\/>/), /connection closed/);
});

test('times out with what was unread', async () => {
  const r = new StreamReader('t');
  r.push(Buffer.from('<partial'));
  await assert.rejects(r.expect(/<done\/>/, 20), /unread: <partial/);
});
