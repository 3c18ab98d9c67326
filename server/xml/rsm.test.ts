import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StanzaError } from './errors.ts';
import { parseXml } from './stream-parser.ts';
import { parseRsm, rsmElement } from './rsm.ts';

const query = (set: string): ReturnType<typeof parseXml> => parseXml(`<query xmlns='urn:example'>${set}</query>`);
const rsm = (children: string): string => `<set xmlns='http://jabber.org/protocol/rsm'>${children}</set>`;

test('reads max, after, before (empty: the last page) and index; no set is undefined', () => {
  assert.equal(parseRsm(query('')), undefined);
  assert.deepEqual(parseRsm(query(rsm('<max>10</max><after>x</after>'))), { max: 10, after: 'x' });
  assert.deepEqual(parseRsm(query(rsm('<max>0</max><before/>'))), { max: 0, before: '' });
  assert.deepEqual(parseRsm(query(rsm('<before>y</before><index>3</index><future/>'))), { before: 'y', index: 3 });
  assert.equal(parseRsm(query("<set xmlns='urn:other'><max>1</max></set>")), undefined, 'only the RSM namespace');
});

test('malformed sets are bad-request', () => {
  for (const bad of ['<max>-1</max>', '<max>ten</max>', '<max>99999999999</max>', '<index>1.5</index>', '<after/>', '<after>a</after><before>b</before>']) {
    assert.throws(() => parseRsm(query(rsm(bad))), (err: unknown) => err instanceof StanzaError && err.condition === 'bad-request', bad);
  }
});

test('writes first with its index, last and count; an empty page only the count', () => {
  assert.equal(rsmElement({ first: 'a', firstIndex: 4, last: 'b', count: 9 }).toString(),
    '<set xmlns="http://jabber.org/protocol/rsm"><first index="4">a</first><last>b</last><count>9</count></set>');
  assert.equal(rsmElement({ first: 'a', last: 'a' }).toString(), '<set xmlns="http://jabber.org/protocol/rsm"><first>a</first><last>a</last></set>');
  assert.equal(rsmElement({ count: 0 }).toString(), '<set xmlns="http://jabber.org/protocol/rsm"><count>0</count></set>');
});
