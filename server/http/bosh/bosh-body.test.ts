import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoshError, intAttr, lowerVersion, parseBody, requestId, responseBody, terminalBody } from './bosh-body.ts';

const NS = 'http://jabber.org/protocol/httpbind';

const condition = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof BoshError) return err.condition;
    throw err;
  }
  return 'none';
};

test('parses a body and its payloads', () => {
  const body = parseBody(`<body xmlns='${NS}' rid='10' sid='s'><message xmlns='jabber:client'/> </body>`, 1000);
  assert.equal(body.attrs.sid, 's');
  assert.equal(body.getChildElements()[0]!.name, 'message');
  assert.equal(requestId(body), 10);
});

test('anything but one <body/> in the httpbind namespace is bad-request', () => {
  assert.equal(condition(() => parseBody('not xml', 1000)), 'bad-request');
  assert.equal(condition(() => parseBody(`<body rid='1'/>`, 1000)), 'bad-request');
  assert.equal(condition(() => parseBody(`<body xmlns='${NS}'/><body xmlns='${NS}'/>`, 1000)), 'bad-request');
  assert.equal(condition(() => parseBody(`<body xmlns='${NS}'>text</body>`, 1000)), 'bad-request');
  assert.equal(condition(() => parseBody(`<body xmlns='${NS}'><!-- comment --></body>`, 1000)), 'bad-request');
});

test('a body over the limit is policy-violation', () => {
  assert.equal(condition(() => parseBody(`<body xmlns='${NS}'>${'<a/>'.repeat(100)}</body>`, 100)), 'policy-violation');
});

test('rid must be a positive integer below 2^53', () => {
  const rid = (v: string) => condition(() => requestId(parseBody(`<body xmlns='${NS}' rid='${v}'/>`, 1000)));
  assert.equal(rid('0'), 'bad-request');
  assert.equal(rid('12a'), 'bad-request');
  assert.equal(rid('9007199254740992'), 'bad-request');
  assert.equal(rid('9007199254740991'), 'none');
  assert.equal(condition(() => requestId(parseBody(`<body xmlns='${NS}'/>`, 1000))), 'bad-request');
});

test('integer attributes fall back when absent and are refused when malformed', () => {
  const body = parseBody(`<body xmlns='${NS}' wait='60' hold='x'/>`, 1000);
  assert.equal(intAttr(body, 'wait', 5), 60);
  assert.equal(intAttr(body, 'polling', 5), 5);
  assert.equal(condition(() => intAttr(body, 'hold', 1)), 'bad-request');
});

test('versions compare by major then minor, as integers', () => {
  assert.equal(lowerVersion('1.6', '1.11'), '1.6');
  assert.equal(lowerVersion('1.12', '1.11'), '1.11');
  assert.equal(lowerVersion('2.0', '1.11'), '1.11');
  assert.equal(lowerVersion('garbage', '1.11'), '1.11');
});

test('responses declare the stream prefix only when they carry payloads', () => {
  assert.equal(responseBody({ sid: 'a', ack: undefined }, ''), `<body xmlns='${NS}' sid='a'/>`);
  const full = responseBody({}, '<stream:features/>');
  assert.match(full, /xmlns:stream='http:\/\/etherx\.jabber\.org\/streams'><stream:features\/><\/body>$/);
  assert.equal(terminalBody('item-not-found'), `<body xmlns='${NS}' type='terminate' condition='item-not-found'/>`);
  assert.equal(responseBody({ from: "a'b" }, ''), `<body xmlns='${NS}' from='a&apos;b'/>`);
});
