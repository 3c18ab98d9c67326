import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListEntryError, parseList } from './list-values.ts';

const refuses = (type: Parameters<typeof parseList>[0], raw: string, entry: string): void => {
  assert.throws(() => parseList(type, raw), (err: Error) => err instanceof ListEntryError && err.message.startsWith(JSON.stringify(entry)), `${type} ${raw}`);
};

test('jid-list: bare JIDs and user names, prepared; full JIDs and malformed entries refused', () => {
  assert.equal(parseList('jid-list', ''), '');
  assert.equal(parseList('jid-list', ' Alice@Example.COM,bob  carol@example.com, alice@example.com'), 'alice@example.com, bob, carol@example.com');
  refuses('jid-list', 'alice@example.com,@example.com', '@example.com');
  refuses('jid-list', 'alice@', 'alice@');
  refuses('jid-list', 'bob/phone', 'bob/phone');
  refuses('jid-list', 'bob@example.com/phone', 'bob@example.com/phone');
  refuses('jid-list', 'a@b@c', 'a@b@c');
});

test('cidr-list: addresses and ranges of both families', () => {
  assert.equal(parseList('cidr-list', '10.0.0.0/8, 192.0.2.1 2001:DB8::/32 ::1'), '10.0.0.0/8, 192.0.2.1, 2001:db8::/32, ::1');
  refuses('cidr-list', '10.0.0.0/33', '10.0.0.0/33');
  refuses('cidr-list', '2001:db8::/129', '2001:db8::/129');
  refuses('cidr-list', '10.0.0/8', '10.0.0/8');
  refuses('cidr-list', 'proxy.example.com', 'proxy.example.com');
  refuses('cidr-list', '10.0.0.0/', '10.0.0.0/');
});

test('origin-list: scheme, host and port only, or * alone', () => {
  assert.equal(parseList('origin-list', '*'), '*');
  assert.equal(parseList('origin-list', 'HTTPS://Chat.Example.com/ http://[::1]:8080,app://x'), 'https://chat.example.com, http://[::1]:8080, app://x');
  assert.equal(parseList('origin-list', 'https://chat.example.com:443'), 'https://chat.example.com', 'the default port is left out, as browsers do');
  for (const bad of ['chat.example.com', 'https://', 'https://a.example/path', 'https://a.example?x', 'https://user@a.example', 'https://a.example#f', 'https://a.example:99999']) {
    refuses('origin-list', bad, bad);
  }
  assert.throws(() => parseList('origin-list', 'https://a.example, *'), /"\*" allows every origin/);
});

test('uri-list: absolute URIs of any scheme, the scheme lower-cased', () => {
  assert.equal(parseList('uri-list', 'MAILTO:abuse@example.com xmpp:admin@example.com,https://example.com/Contact?x=1'),
    'mailto:abuse@example.com, xmpp:admin@example.com, https://example.com/Contact?x=1');
  refuses('uri-list', 'mailto:a@example.com abuse@example.com', 'abuse@example.com');
  refuses('uri-list', 'example.com/contact', 'example.com/contact');
  refuses('uri-list', '1http://example.com', '1http://example.com');
  refuses('uri-list', 'mailto:', 'mailto:');
  refuses('uri-list', 'https://exa"mple.com', 'https://exa"mple.com');
});
