import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../xml/stream-parser.ts';
import { capsString, capsVer } from './caps-ver.ts';

// The complex example of XEP-0115 section 5.3, whose string and hash the XEP gives.
const EXAMPLE = `<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
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

test('the XEP-0115 5.3 example gives the string and hash the XEP shows', () => {
  const query = parseXml(EXAMPLE);
  assert.equal(capsString(query),
    'client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<' +
    'http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<' +
    'ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<');
  assert.equal(capsVer(query), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
});

test('the simple example of 5.2, and a form without FORM_TYPE left out', () => {
  const query = parseXml(`<query xmlns='http://jabber.org/protocol/disco#info'>
    <identity category='client' name='Exodus 0.9.1' type='pc'/>
    <feature var='http://jabber.org/protocol/muc'/><feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/caps'/>
    <x xmlns='jabber:x:data' type='result'><field var='x'><value>y</value></field></x>
  </query>`);
  assert.equal(capsVer(query), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
});
