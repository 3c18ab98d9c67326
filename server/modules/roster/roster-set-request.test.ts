import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StanzaError } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { parseRosterSet } from './roster-set-request.ts';

const OWN = 'alice@example.org';
const query = (groups: string[]) => parseXml(`<query xmlns='jabber:iq:roster'><item jid='bob@example.org'>${groups.map((g) => `<group>${g}</group>`).join('')}</item></query>`);

function refusal(run: () => unknown): { condition: string; text: string | undefined } {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof StanzaError, String(err));
    return { condition: err.condition, text: err.text };
  }
  assert.fail('the roster set was accepted');
}

test('the group limit is the one passed in, and the refusal names it', () => {
  const groups = ['a', 'b', 'c'];
  assert.deepEqual(parseRosterSet(query(groups), OWN, { maxTextLength: 20, maxGroups: 3 }).groups, groups);
  assert.deepEqual(refusal(() => parseRosterSet(query(groups), OWN, { maxTextLength: 20, maxGroups: 2 })),
    { condition: 'not-acceptable', text: 'An item may be in at most 2 groups' });
});

test('raised limits cannot overflow the stored column: group names over 65535 bytes together are refused', () => {
  // 20 groups of about 1000 four-byte characters: within the limits, 80 kB as stored.
  const groups = Array.from({ length: 20 }, (_, i) => `${i}${'\u{1F600}'.repeat(999)}`);
  const limits = { maxTextLength: 1023, maxGroups: 100 };
  assert.deepEqual(refusal(() => parseRosterSet(query(groups), OWN, limits)),
    { condition: 'not-acceptable', text: 'The group names are too long together: an item stores at most 65535 bytes of them' });
  assert.equal(parseRosterSet(query(groups.slice(0, 15)), OWN, limits).groups.length, 15, '15 such groups fit');
});
