import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllowedHosts, hostName } from './allowed-hosts.ts';

test('the host of a Host header: port, brackets and a final dot dropped; anything else is no host', () => {
  assert.equal(hostName('Admin.Example.COM:9090'), 'admin.example.com');
  assert.equal(hostName('localhost.'), 'localhost');
  assert.equal(hostName('localhost.:9091'), 'localhost');
  assert.equal(hostName('127.0.0.1:9090'), '127.0.0.1');
  assert.equal(hostName('[::1]:9090'), '::1');
  assert.equal(hostName('[::1]'), '::1');
  for (const bad of ['', ':9090', '[evil.example]:80', 'a b', 'evil.example:port', 'x@evil.example', 'evil.example/x', '[::1]x']) {
    assert.equal(hostName(bad), null, bad);
  }
});

test('addresses, localhost names, the listener host and the listed names are allowed; other names are not', () => {
  const none = new AllowedHosts('');
  for (const ok of ['127.0.0.1:9090', '10.1.2.3', '[::1]:9091', 'localhost:9091', 'LOCALHOST', 'console.localhost:9090', undefined]) {
    assert.ok(none.allows(ok), String(ok));
  }
  for (const bad of ['evil.example:9090', 'rebind.127.0.0.1.nip.io', 'localhost.evil.example', 'xlocalhost', '', 'a b']) {
    assert.ok(!none.allows(bad), bad);
  }
  const listed = new AllowedHosts(' admin.example.com, .ops.example.,,', 'xmpp1.internal');
  for (const ok of ['admin.example.com:443', 'Admin.Example.Com.', 'ops.example', 'a.b.ops.example:9090', 'xmpp1.internal:9090']) {
    assert.ok(listed.allows(ok), ok);
  }
  for (const bad of ['example.com', 'evil-admin.example.com', 'evilops.example', 'xmpp2.internal']) assert.ok(!listed.allows(bad), bad);
});
