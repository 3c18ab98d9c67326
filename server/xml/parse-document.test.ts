import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXmlDocument } from './parse-document.ts';

test('a commented configuration file parses; comments are gone, CDATA that looks like one stays', () => {
  const doc = parseXmlDocument([
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- The cluster this node joins. -->',
    '<hazelcast-client xmlns="http://www.hazelcast.com/schema/client-config">',
    '  <cluster-name>xmppd</cluster-name><!-- same as the members\' -->',
    '  <network>',
    '    <!--',
    '      <cluster-members><address>10.0.0.1:5701</address></cluster-members>',
    '    -->',
    '    <note><![CDATA[<!-- not a comment -->]]></note>',
    '  </network>',
    '</hazelcast-client>',
    '<!-- trailing -->',
    '',
  ].join('\n'));
  assert.equal(doc.name, 'hazelcast-client');
  assert.equal(doc.getChildElements().find((c) => c.name === 'cluster-name')?.getText(), 'xmppd');
  const network = doc.getChildElements().find((c) => c.name === 'network')!;
  assert.deepEqual(network.getChildElements().map((c) => c.name), ['note'], 'the commented-out members are not read');
  assert.equal(network.getChildElements()[0]!.getText(), '<!-- not a comment -->');
});

test('what is not well-formed is still refused, with a reason', () => {
  assert.throws(() => parseXmlDocument('<a><!-- open'), { message: 'not-well-formed: a comment is not closed with "-->"' });
  assert.throws(() => parseXmlDocument('<a><!-- a -- b --></a>'), { message: 'not-well-formed: a comment contains "--"' });
  assert.throws(() => parseXmlDocument('<!DOCTYPE a><a/>'), /restricted-xml: DTDs are not allowed/);
  assert.throws(() => parseXmlDocument('<a><b></a>'), /not-well-formed/);
  assert.throws(() => parseXmlDocument('<!-- only a comment -->'), /incomplete document/);
});
