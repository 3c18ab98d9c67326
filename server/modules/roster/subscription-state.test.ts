// Every row of the RFC 6121 Appendix A tables, written out as the RFC prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inbound, outbound, type SubState, type SubscriptionType } from './subscription-state.ts';

const STATES: Record<string, SubState> = {
  'None': { to: false, from: false, askOut: false, askIn: false },
  'None + Pending Out': { to: false, from: false, askOut: true, askIn: false },
  'None + Pending In': { to: false, from: false, askOut: false, askIn: true },
  'None + Pending Out/In': { to: false, from: false, askOut: true, askIn: true },
  'To': { to: true, from: false, askOut: false, askIn: false },
  'To + Pending In': { to: true, from: false, askOut: false, askIn: true },
  'From': { to: false, from: true, askOut: false, askIn: false },
  'From + Pending Out': { to: false, from: true, askOut: true, askIn: false },
  'Both': { to: true, from: true, askOut: false, askIn: false },
};

/** [existing state, passed on?, new state or null for "no state change"] */
type Row = [string, boolean, string | null];

const OUTBOUND: Record<SubscriptionType, Row[]> = {
  subscribe: [ // A.2.1
    ['None', true, 'None + Pending Out'], ['None + Pending Out', true, null],
    ['None + Pending In', true, 'None + Pending Out/In'], ['None + Pending Out/In', true, null],
    ['To', true, null], ['To + Pending In', true, null], ['From', true, 'From + Pending Out'],
    ['From + Pending Out', true, null], ['Both', true, null],
  ],
  unsubscribe: [ // A.2.2
    ['None', true, null], ['None + Pending Out', true, 'None'], ['None + Pending In', true, null],
    ['None + Pending Out/In', true, 'None + Pending In'], ['To', true, 'None'],
    ['To + Pending In', true, 'None + Pending In'], ['From', true, null],
    ['From + Pending Out', true, 'From'], ['Both', true, 'From'],
  ],
  subscribed: [ // A.2.3
    ['None', false, null], ['None + Pending Out', false, null], ['None + Pending In', true, 'From'],
    ['None + Pending Out/In', true, 'From + Pending Out'], ['To', false, null],
    ['To + Pending In', true, 'Both'], ['From', false, null], ['From + Pending Out', false, null],
    ['Both', false, null],
  ],
  unsubscribed: [ // A.2.4
    ['None', false, null], ['None + Pending Out', false, null], ['None + Pending In', true, 'None'],
    ['None + Pending Out/In', true, 'None + Pending Out'], ['To', false, null],
    ['To + Pending In', true, 'To'], ['From', true, 'None'], ['From + Pending Out', true, 'None + Pending Out'],
    ['Both', true, 'To'],
  ],
};

const INBOUND: Record<SubscriptionType, Row[]> = {
  subscribe: [ // A.3.1 (From, From + Pending Out and Both are answered by the server)
    ['None', true, 'None + Pending In'], ['None + Pending Out', true, 'None + Pending Out/In'],
    ['None + Pending In', false, null], ['None + Pending Out/In', false, null],
    ['To', true, 'To + Pending In'], ['To + Pending In', false, null], ['From', false, null],
    ['From + Pending Out', false, null], ['Both', false, null],
  ],
  unsubscribe: [ // A.3.2
    ['None', false, null], ['None + Pending Out', false, null], ['None + Pending In', true, 'None'],
    ['None + Pending Out/In', true, 'None + Pending Out'], ['To', false, null],
    ['To + Pending In', true, 'To'], ['From', true, 'None'], ['From + Pending Out', true, 'None + Pending Out'],
    ['Both', true, 'To'],
  ],
  subscribed: [ // A.3.3
    ['None', false, null], ['None + Pending Out', true, 'To'], ['None + Pending In', false, null],
    ['None + Pending Out/In', true, 'To + Pending In'], ['To', false, null], ['To + Pending In', false, null],
    ['From', false, null], ['From + Pending Out', true, 'Both'], ['Both', false, null],
  ],
  unsubscribed: [ // A.3.4
    ['None', false, null], ['None + Pending Out', true, 'None'], ['None + Pending In', false, null],
    ['None + Pending Out/In', true, 'None + Pending In'], ['To', true, 'None'],
    ['To + Pending In', true, 'None + Pending In'], ['From', false, null], ['From + Pending Out', true, 'From'],
    ['Both', true, 'From'],
  ],
};

for (const [name, fn, table] of [['outbound (A.2)', outbound, OUTBOUND], ['inbound (A.3)', inbound, INBOUND]] as const) {
  for (const type of Object.keys(table) as SubscriptionType[]) {
    test(`${name} ${type} follows the RFC table`, () => {
      assert.equal(table[type].length, 9);
      for (const [from, pass, to] of table[type]) {
        const t = fn(type, STATES[from]!);
        assert.equal(t.pass, pass, `${from}: passed on`);
        assert.deepEqual(t.next, to === null ? null : STATES[to], `${from}: new state`);
      }
    });
  }
}

test('an inbound subscribe from an already subscribed contact is answered with subscribed', () => {
  for (const s of ['From', 'From + Pending Out', 'Both']) assert.equal(inbound('subscribe', STATES[s]!).autoReply, 'subscribed');
  for (const s of ['None', 'To', 'None + Pending In']) assert.equal(inbound('subscribe', STATES[s]!).autoReply, undefined);
});
