import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from './element.ts';
import { stanzaError } from './errors.ts';
import { StreamParser, parseXml } from './stream-parser.ts';

test('an error reply keeps the prefix declarations its copied payload uses (prefixed attributes)', () => {
  const stanzas: Element[] = [];
  const parser = new StreamParser({ streamStart() {}, element: (el) => stanzas.push(el), streamEnd() {}, error: (err) => assert.fail(err.message) }, { maxStanzaBytes: 10_000 });
  // one prefix declared on the stream header, one on the stanza itself
  parser.write("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:h='urn:h'>"
    + "<iq type='get' id='1' to='x@y' xmlns:s='urn:s'><q xmlns='urn:q' h:a='1'><r s:b='2'/></q></iq>");
  const reply = stanzaError(stanzas[0]!, 'service-unavailable');
  const back = parseXml(reply.toString());
  assert.equal(back.attrs.type, 'error');
  const q = back.getChild('q', 'urn:q');
  assert.equal(q?.attrs['h:a'], '1', reply.toString());
  assert.equal(q?.getChild('r')?.attrs['s:b'], '2');
  assert.equal(back.attrs['xmlns:h'], 'urn:h');
  assert.equal(back.attrs['xmlns:s'], 'urn:s');
});
