import assert from 'node:assert/strict';
import { test } from 'node:test';
import { xml } from './element.ts';
import { addressedCopy, addressedTemplate } from './addressed-copies.ts';
import { parseXml } from './stream-parser.ts';

test('each copy parses back to the stanza with its own to, the original untouched', () => {
  const stanza = xml('message', { xmlns: 'jabber:client', type: 'headline', from: 'a@example.com', to: 'old@example.com/x', id: 'n1' },
    xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, xml('items', { node: 'n' }, 'a < b & "c"')));
  const template = addressedTemplate(stanza);
  for (const to of ['b@example.com/phone', 'c@example.com/it\'s "odd" & <odd>']) {
    const copy = parseXml(addressedCopy(template, to));
    assert.equal(copy.attrs.to, to);
    assert.equal(copy.attrs.from, 'a@example.com');
    assert.equal(copy.attrs.id, 'n1');
    assert.equal(copy.getChild('event')?.getChild('items')?.getText(), 'a < b & "c"');
  }
  assert.equal(stanza.attrs.to, 'old@example.com/x');
});

test('a childless stanza without a to gets one', () => {
  const template = addressedTemplate(xml('presence', { xmlns: 'jabber:client', from: 'a@example.com/r' }));
  assert.equal(addressedCopy(template, 'b@example.com/r'), '<presence to="b@example.com/r" xmlns="jabber:client" from="a@example.com/r"/>');
});
