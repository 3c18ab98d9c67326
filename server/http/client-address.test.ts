import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressRanges, clientAddress, forwardedAddress } from './client-address.ts';

const trusted = (text: string): AddressRanges => {
  const { ranges: proxies, invalid } = AddressRanges.parse(text);
  assert.deepEqual(invalid, [], `invalid entries in ${text}`);
  return proxies;
};

test('parsing: addresses and CIDR ranges of both families; wrong entries are named and left out', () => {
  const { ranges: proxies, invalid } = AddressRanges.parse(' 10.0.0.0/8, ::1 ,,fd00::/8, 192.0.2.7, nonsense, 10.0.0.1/33, ::/129, 1.2.3.4/x, 300.1.1.1, * ');
  assert.deepEqual(invalid, ['nonsense', '10.0.0.1/33', '::/129', '1.2.3.4/x', '300.1.1.1', '*']);
  assert.deepEqual(proxies.entries, ['10.0.0.0/8', '::1', 'fd00::/8', '192.0.2.7']);
  for (const a of ['10.1.2.3', '::1', 'fd12:3456::1', '192.0.2.7']) assert.ok(proxies.includes(a), a);
  for (const a of ['11.0.0.1', '192.0.2.8', '::2', 'fe80::1', 'unknown', '']) assert.ok(!proxies.includes(a), a);
  assert.ok(!AddressRanges.parse('').ranges.includes('127.0.0.1'), 'empty trusts nobody');
  assert.equal(AddressRanges.parse(' , ').ranges, AddressRanges.NONE);
});

test('IPv4-mapped IPv6 peers match IPv4 entries, and the other way round', () => {
  assert.ok(trusted('127.0.0.1').includes('::ffff:127.0.0.1'));
  assert.ok(trusted('10.0.0.0/8').includes('::ffff:10.9.8.7'));
  assert.ok(trusted('::ffff:127.0.0.1').includes('127.0.0.1'));
  assert.ok(!trusted('127.0.0.1').includes('::ffff:127.0.0.2'));
});

test('forwarded entries: ports and brackets are dropped, IPv4-mapped becomes IPv4, anything else is no address', () => {
  assert.equal(forwardedAddress(' 203.0.113.9 '), '203.0.113.9');
  assert.equal(forwardedAddress('203.0.113.9:4711'), '203.0.113.9');
  assert.equal(forwardedAddress('2001:DB8::1'), '2001:db8::1');
  assert.equal(forwardedAddress('[2001:db8::1]'), '2001:db8::1');
  assert.equal(forwardedAddress('[2001:db8::1]:4711'), '2001:db8::1');
  assert.equal(forwardedAddress('::ffff:198.51.100.4'), '198.51.100.4');
  for (const bad of ['', 'unknown', '_hidden', 'example.com', '1.2.3', '[1.2.3.4', '1.2.3.4:x']) assert.equal(forwardedAddress(bad), null, bad);
});

test('a peer that is not trusted keeps its socket address whatever header it sends', () => {
  const proxies = trusted('10.0.0.1');
  assert.equal(clientAddress('198.51.100.7', '203.0.113.1', proxies), '198.51.100.7', 'a spoofed header is ignored');
  assert.equal(clientAddress('127.0.0.1', '203.0.113.1', AddressRanges.NONE), '127.0.0.1', 'nobody is trusted by default');
  assert.equal(clientAddress(undefined, '203.0.113.1', proxies), 'unknown');
});

test('a trusted peer: the right-most address that is not a trusted proxy is the client', () => {
  const proxies = trusted('10.0.0.0/8, 2001:db8:ffff::/48');
  assert.equal(clientAddress('10.0.0.1', undefined, proxies), '10.0.0.1', 'no header: the proxy itself');
  assert.equal(clientAddress('10.0.0.1', '', proxies), '10.0.0.1');
  assert.equal(clientAddress('10.0.0.1', '203.0.113.5', proxies), '203.0.113.5');
  // What the client wrote itself (left of the address our proxy saw) does not count.
  assert.equal(clientAddress('10.0.0.1', '1.1.1.1, 203.0.113.5', proxies), '203.0.113.5');
  // A chain of trusted proxies is walked through.
  assert.equal(clientAddress('10.0.0.1', '1.1.1.1, 203.0.113.5, 10.0.0.2, 10.0.0.3', proxies), '203.0.113.5');
  assert.equal(clientAddress('10.0.0.1', ['1.1.1.1, 203.0.113.5', '10.0.0.2'], proxies), '203.0.113.5', 'several headers are one list');
  assert.equal(clientAddress('10.0.0.1', '10.0.0.9, 10.0.0.2', proxies), '10.0.0.9', 'all trusted: the left-most');
  // IPv6 and IPv4-mapped peers and hops.
  assert.equal(clientAddress('::ffff:10.0.0.1', '2001:db8::42', proxies), '2001:db8::42');
  assert.equal(clientAddress('2001:db8:ffff::1', '[2001:db8::42]:5000, 2001:db8:ffff::2', proxies), '2001:db8::42');
  assert.equal(clientAddress('10.0.0.1', '::ffff:203.0.113.5', proxies), '203.0.113.5');
  // Garbage written by a trusted hop ends the walk at the last trusted address.
  assert.equal(clientAddress('10.0.0.1', '203.0.113.5, unknown, 10.0.0.2', proxies), '10.0.0.2');
  assert.equal(clientAddress('10.0.0.1', 'garbage', proxies), '10.0.0.1');
});
