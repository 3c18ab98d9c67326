import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../xml/stream-parser.ts';
import { capsInfoOf, capsVer, verifies } from './caps-hash.ts';

// XEP-0115 5.2 and 5.3: the examples the specification computes.
const SIMPLE = `<query xmlns='http://jabber.org/protocol/disco#info' node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`;

const COMPLEX = `<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='software_version'><value>0.11</value></field>
  </x>
</query>`;

test('the verification strings of XEP-0115 5.2 and 5.3', () => {
  assert.equal(verifies(parseXml(SIMPLE), 'sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0='), true);
  assert.equal(verifies(parseXml(COMPLEX), 'sha-1', 'q07IKJEyjvHSyhy//CH0CxmKi8w='), true);
  assert.equal(capsVer(parseXml(COMPLEX)), 'q07IKJEyjvHSyhy//CH0CxmKi8w=', 'sha-1 unless told otherwise');
  assert.equal(capsVer(parseXml(SIMPLE), 'md5'), null);
});

test('a wrong string, an unknown hash or a changed answer do not verify', () => {
  assert.equal(verifies(parseXml(SIMPLE), 'sha-1', 'q07IKJEyjvHSyhy//CH0CxmKi8w='), false);
  assert.equal(verifies(parseXml(SIMPLE), 'md5', 'QgayPKawpkPSDYmwT/WM94uAlu0='), false);
  const extra = SIMPLE.replace('</query>', "<feature var='urn:xmpp:avatar:metadata+notify'/></query>");
  assert.equal(verifies(parseXml(extra), 'sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0='), false);
});

test('duplicate features or identities make an answer unusable (5.4)', () => {
  const twice = SIMPLE.replace('</query>', "<feature var='http://jabber.org/protocol/muc'/></query>");
  assert.equal(capsInfoOf(parseXml(twice)), null);
  assert.equal(verifies(parseXml(twice), 'sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0='), false);
  assert.deepEqual(capsInfoOf(parseXml(SIMPLE))!.identities, [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }]);
});
