import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { JID, JidError } from './jid.ts';
import { prepareDomain, prepareLocal, prepareResource } from './prep.ts';

/** The canonical form, or null when parse() refuses the input. */
function canon(input: string): string | null {
  try {
    return JID.parse(input).toString();
  } catch (err) {
    assert.ok(err instanceof JidError, `${input}: ${String(err)}`);
    return null;
  }
}

test('valid JIDs parse into their parts', () => {
  const full = JID.parse('juliet@example.com/balcony');
  assert.equal(full.local, 'juliet');
  assert.equal(full.domain, 'example.com');
  assert.equal(full.resource, 'balcony');
  assert.equal(full.toString(), 'juliet@example.com/balcony');
  assert.equal(canon('example.com'), 'example.com');
  assert.equal(canon('example.com/resource'), 'example.com/resource');
  assert.equal(canon('juliet@example.com'), 'juliet@example.com');
  assert.equal(canon('localhost'), 'localhost');
  assert.equal(canon('user@192.168.0.1'), 'user@192.168.0.1');
  assert.equal(canon('user@_service.example.com'), 'user@_service.example.com');
});

test('the resource starts at the first slash and may hold @ and /', () => {
  const jid = JID.parse('a@b/c@d/e');
  assert.equal(jid.local, 'a');
  assert.equal(jid.domain, 'b');
  assert.equal(jid.resource, 'c@d/e');
  assert.equal(canon('b/c@d'), 'b/c@d');
  assert.equal(JID.parse('b/c@d').local, '');
});

test('empty parts are refused', () => {
  for (const input of ['', '@', '/', '@/', '@example.com', 'user@', 'user@/res', 'user@example.com/', 'example.com/', '/res', '.']) {
    assert.equal(canon(input), null, JSON.stringify(input));
  }
  assert.throws(() => JID.parse('@example.com'), /empty localpart/);
});

test('each part is limited to 1023 bytes', () => {
  const label = 'a'.repeat(63);
  const domain1023 = Array.from({ length: 16 }, () => label).join('.'); // 16*63 + 15 = 1023
  assert.equal(domain1023.length, 1023);
  assert.equal(canon(domain1023), domain1023);
  assert.equal(canon(domain1023 + 'a'), null, 'domain of 1024 bytes');
  assert.equal(canon('x'.repeat(1023) + '@example.com'), 'x'.repeat(1023) + '@example.com');
  assert.equal(canon('x'.repeat(1024) + '@example.com'), null, 'localpart of 1024 bytes');
  assert.equal(canon('example.com/' + 'r'.repeat(1023)), 'example.com/' + 'r'.repeat(1023));
  assert.equal(canon('example.com/' + 'r'.repeat(1024)), null, 'resource of 1024 bytes');
  // bytes, not characters: U+4E2D is three bytes in UTF-8
  assert.equal(canon('\u4e2d'.repeat(341) + '@example.com'), '\u4e2d'.repeat(341) + '@example.com');
  assert.equal(canon('\u4e2d'.repeat(342) + '@example.com'), null);
  assert.equal(canon('example.com/' + '\u4e2d'.repeat(342)), null);
  // a DNS label is at most 63 octets
  assert.equal(canon('a'.repeat(64) + '.example.com'), null);
});

test('characters RFC 7622 forbids in a localpart are refused', () => {
  for (const ch of ['"', '&', "'", ':', '<', '>', ' ', '\t', '\u00a0', '\u3000']) {
    assert.equal(canon(`ju${ch}liet@example.com`), null, JSON.stringify(ch));
  }
  // '/' and '@' cannot even reach the localpart through parse(), so check the part itself
  assert.equal(prepareLocal('ju/liet'), null);
  assert.equal(prepareLocal('ju@liet'), null);
  assert.equal(prepareLocal(''), null);
  // other ASCII punctuation is fine
  assert.equal(canon("o.hara+tag_1-x!#$%*=?^`{|}~@example.com"), "o.hara+tag_1-x!#$%*=?^`{|}~@example.com");
});

test('localparts outside the PRECIS IdentifierClass are refused', () => {
  const refused = {
    'symbol': 'snow\u2603man',
    'compatibility ligature': '\ufb01sh',
    'superscript': 'x\u00b2',
    'zero-width space (default ignorable)': 'a\u200bb',
    'zero-width joiner (contextual)': 'a\u200db',
    'control': 'a\u0007b',
    'private use': 'a\ue000b',
    'unassigned': 'a\u0378b',
    'non-ASCII punctuation': 'a\u00bfb',
    'conjoining jamo left alone': '\u1100x',
    'title-case letter': '\u01c5x',
  };
  for (const [what, local] of Object.entries(refused)) assert.equal(prepareLocal(local), null, what);
  // jamo that compose under NFC become a precomposed syllable, which is valid
  assert.equal(prepareLocal('\u1100\u1161\u11a8'), '\uac01');
  // letters, marks and digits of any script are fine
  for (const local of ['\u00e9l\u00e8ve', '\u4e2d\u6587', '\u03c3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2', '\u0645\u062b\u0627\u0644', 'stra\u00dfe', '\ud55c\uad6d\uc5b4']) {
    assert.equal(prepareLocal(local), local, local);
  }
});

test('localpart and domainpart are case-folded, the resource keeps its case', () => {
  assert.equal(canon('Juliet@Example.COM/Balcony'), 'juliet@example.com/Balcony');
  assert.equal(canon('\u00c9L\u00c8VE@EXAMPLE.com'), '\u00e9l\u00e8ve@example.com');
  assert.equal(canon('\u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3@x.example'), '\u03c3\u03b9\u03c3\u03c5\u03c6\u03bf\u03c2@x.example');
  assert.equal(canon('user@B\u00dcCHER.example'), 'user@b\u00fccher.example');
  assert.ok(JID.parse('ROMEO@Example.com').equals(JID.parse('romeo@example.COM')));
  assert.ok(!JID.parse('romeo@example.com/A').equals(JID.parse('romeo@example.com/a')));
});

test('fullwidth characters are width-mapped in localpart and domainpart, kept in the resource', () => {
  assert.equal(canon('\uff2a\uff55\uff4c\uff49\uff45\uff54@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d/\uff32'),
    'juliet@example.com/\uff32');
});

test('one trailing dot on the domain is dropped, two are refused', () => {
  assert.equal(canon('juliet@example.com./balcony'), 'juliet@example.com/balcony');
  assert.equal(canon('example.com.'), 'example.com');
  assert.equal(canon('example.com..'), null);
  assert.equal(canon('example..com'), null);
  assert.equal(canon('.example.com'), null);
  assert.equal(canon('example.com\u3002'), 'example.com', 'ideographic full stop');
  assert.ok(JID.parse('a@example.com.').equals(JID.parse('a@example.com')));
});

test('IPv6 literals are kept in brackets and lower-cased', () => {
  assert.equal(canon('user@[::1]/r'), 'user@[::1]/r');
  assert.equal(canon('[2001:DB8::1]'), '[2001:db8::1]');
  assert.equal(canon('user@[::ffff:192.0.2.1]'), 'user@[::ffff:192.0.2.1]');
  for (const bad of ['[::1', '::1]', '[]', '[zz::1]', '[1:2:3]', '[::1]:5222', '[example.com]']) {
    assert.equal(canon(bad), null, bad);
  }
});

test('internationalized domains compare equal in A-label and U-label form', () => {
  assert.equal(canon('user@xn--bcher-kva.example'), 'user@b\u00fccher.example');
  assert.ok(JID.parse('user@xn--bcher-kva.example').equals(JID.parse('user@b\u00fccher.example')));
  assert.equal(canon('\u4f8b\u3048.\u30c6\u30b9\u30c8'), '\u4f8b\u3048.\u30c6\u30b9\u30c8');
  assert.equal(canon('user@xn--zz.example'), null, 'invalid A-label');
  assert.equal(canon('user@b\u00fccher/x.example'), 'user@b\u00fccher/x.example', 'slash starts the resource');
  for (const bad of ['exa mple.com', 'ex!ample.com', 'ex"ample.com', 'ex<ample.com', 'b\u00fcch er.example', 'b\u00fccher\u0000.example', 'b\u00fc?cher.example']) {
    assert.equal(canon(`user@${bad}`), null, JSON.stringify(bad));
  }
  assert.equal(prepareDomain('b\u00fccher.' + '\u00fc'.repeat(60)), null, 'label too long once encoded');
});

test('Unicode normalization makes equivalent spellings equal', () => {
  const decomposed = 'e\u0301le\u0300ve'; // e + combining acute, e + combining grave
  const composed = '\u00e9l\u00e8ve';
  assert.equal(canon(`${decomposed}@example.com/${decomposed}`), `${composed}@example.com/${composed}`);
  assert.equal(canon(`user@${decomposed}.example`), `user@${composed}.example`);
  assert.ok(JID.parse(`${decomposed}@example.com`).equals(JID.parse(`${composed}@example.com`)));
  // compatibility forms are refused in the localpart rather than folded (they are not NFC-equal)
  assert.equal(prepareLocal('\u2460'), null, 'circled digit one');
});

test('resources are OpaqueString: spaces and symbols allowed, controls and non-characters not', () => {
  assert.equal(prepareResource('My Phone \u2603 (work)'), 'My Phone \u2603 (work)');
  assert.equal(prepareResource(' padded '), ' padded ');
  assert.equal(prepareResource('a\u00a0b\u3000c'), 'a b c', 'non-ASCII spaces map to U+0020');
  assert.equal(prepareResource('\ufb01 \u00b2'), '\ufb01 \u00b2', 'compatibility characters are kept');
  for (const bad of ['a\u0000b', 'a\u0007b', 'a\u007fb', 'a\u200bb', 'a\ue000b', 'a\uffffb', 'a\ud800b', 'a\u2028b', '']) {
    assert.equal(prepareResource(bad), null, JSON.stringify(bad));
  }
});

test('the JID helpers keep the prepared form', () => {
  const jid = JID.parse('Juliet@Example.com/Balcony');
  assert.equal(jid.bare().toString(), 'juliet@example.com');
  assert.equal(jid.bareString(), 'juliet@example.com');
  assert.ok(jid.bare().isBare);
  assert.ok(!jid.isBare);
  assert.equal(jid.withResource('Chamber').toString(), 'juliet@example.com/Chamber');
  assert.ok(JID.parse('example.com').isDomain);
  assert.ok(!JID.parse('example.com/r').isDomain);
  assert.equal(JSON.stringify({ jid }), '{"jid":"juliet@example.com/Balcony"}');
  assert.equal(JID.tryParse(undefined), null);
  assert.equal(JID.tryParse('@bad'), null);
  assert.equal(JID.tryParse('a@b')!.toString(), 'a@b');
  assert.throws(() => JID.parse('a@b@c'), (err: unknown) => err instanceof JidError && /domainpart/.test(err.message));
});

// A crafted localpart (ASCII letters, then a refused non-ASCII character) once made the
// identifier-class check backtrack exponentially: 30 letters blocked the event loop for
// seconds, 40 for hours. Every length up to the part limit must now finish at once. The
// inputs run in a child process, so that a return of the exponential case fails at the
// deadline instead of hanging the test run.
const WORST_CASES = `
  import { prepareDomain, prepareLocal, prepareResource } from ${JSON.stringify(new URL('./prep.ts', import.meta.url).href)};
  const tails = ['\\u00a0', '\\u0000', '\\u200b', '\\ud800', '\\u3000', '\\u00e9', '\\u1100'];
  const wrong = [];
  for (let n = 1; n <= 1023; n++) {
    const letters = 'a'.repeat(n);
    if (prepareLocal(letters + '\\u00a0') !== null) wrong.push('local ' + n);
    if (prepareResource(letters + '\\u0000') !== null) wrong.push('resource ' + n);
    if (prepareDomain(letters + '\\u00a0') !== null) wrong.push('domain ' + n);
    const mixed = 'a\\u00e9'.repeat(n >> 1) + tails[n % tails.length];
    prepareLocal(mixed); prepareResource(mixed); prepareDomain(mixed);
  }
  process.stdout.write(JSON.stringify(wrong));
`;

test('preparation is linear in its input for every length up to the limits', async () => {
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORST_CASES], { timeout: 20_000 });
  const { stdout } = await run.catch((err: { killed?: boolean }) => {
    assert.fail(err.killed ? 'JID preparation did not finish within 20 s' : String(err));
  });
  assert.deepEqual(JSON.parse(stdout), []);
  assert.equal(prepareLocal('a'.repeat(1020) + 'é'), 'a'.repeat(1020) + 'é');
  assert.equal(prepareLocal('a'.repeat(1022) + 'é'), null, 'over 1023 bytes once encoded');
  assert.equal(JID.tryParse('b'.repeat(40) + '\u00a0@localhost'), null);
});
