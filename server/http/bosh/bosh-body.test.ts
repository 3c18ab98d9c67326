import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoshError, contentAttr, decodeBody, intAttr, lowerVersion, parseBody, requestId, responseBody, terminalBody } from './bosh-body.ts';

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
  for (const bad of ['0', '-1', '12a', '1.5', '1e3', '+7', ' 7', '', '9007199254740992', '9007199254740993', '99999999999999999999']) {
    assert.equal(rid(bad), 'bad-request', bad);
  }
  assert.equal(rid('9007199254740991'), 'none');
  assert.equal(condition(() => requestId(parseBody(`<body xmlns='${NS}'/>`, 1000))), 'bad-request');
  const ack = parseBody(`<body xmlns='${NS}' rid='1' ack='12345678901'/>`, 1000);
  assert.equal(requestId(ack, 'ack'), 12345678901, 'an ack is a rid, of any size a rid may have');
  assert.throws(() => requestId(parseBody(`<body xmlns='${NS}' rid='9007199254740993'/>`, 1000)),
    { message: `bad-request: 'rid' "9007199254740993" is not an integer from 1 to 9007199254740991` });
});

test('integer attributes fall back when absent, saturate when huge, and are refused when malformed', () => {
  const body = parseBody(`<body xmlns='${NS}' wait='60' hold='x' pause='-1' inactivity='${'9'.repeat(400)}'/>`, 1000);
  assert.equal(intAttr(body, 'wait', 5), 60);
  assert.equal(intAttr(body, 'polling', 5), 5);
  assert.equal(intAttr(body, 'inactivity', 5), Number.MAX_SAFE_INTEGER);
  assert.equal(condition(() => intAttr(body, 'hold', 1)), 'bad-request');
  assert.equal(condition(() => intAttr(body, 'pause', 1)), 'bad-request');
});

test('a body that is not UTF-8 is bad-request, not decoded with replacement characters', () => {
  assert.equal(decodeBody(Buffer.from('<body>é☃😀</body>')), '<body>é☃😀</body>');
  assert.equal(decodeBody(Buffer.from([0xef, 0xbb, 0xbf, 0x3c, 0x61, 0x2f, 0x3e])), '<a/>', 'a byte order mark is dropped');
  for (const bytes of [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x98]]) {
    assert.equal(condition(() => decodeBody(Buffer.from([0x3c, 0x61, ...bytes, 0x2f, 0x3e]))), 'bad-request', String(bytes));
  }
});

test("'content' must be a media type, which becomes every response's Content-Type", () => {
  const content = (v: string) => parseBody(`<body xmlns='${NS}' content='${v}'/>`, 1000);
  assert.equal(contentAttr(parseBody(`<body xmlns='${NS}'/>`, 1000), 'text/xml'), 'text/xml');
  for (const ok of ['text/xml; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'text/xml;charset="utf-8"']) {
    assert.equal(contentAttr(content(ok), 'x'), ok);
  }
  for (const bad of ['text/xml&#13;&#10;Set-Cookie: a=b', 'text/xml&#10;', 'é/x', '', 'text', 'text/xml; charset', `text/${'x'.repeat(300)}`]) {
    assert.equal(condition(() => contentAttr(content(bad), 'x')), 'bad-request', bad);
  }
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
