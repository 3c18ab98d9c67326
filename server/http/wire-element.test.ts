import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '../xml/element.ts';
import { adoptClientNamespace, serializeStandalone, withClientNamespace } from './wire-element.ts';

test('a stanza without a namespace is written with jabber:client, without changing the original', () => {
  const msg = xml('message', { to: 'a@b' }, xml('body', null, 'hi'));
  assert.equal(serializeStandalone(msg, true), '<message xmlns="jabber:client" to="a@b"><body>hi</body></message>');
  assert.equal(msg.attrs.xmlns, undefined);
});

test('stream-prefixed elements declare the prefix unless the container does', () => {
  const features = xml('stream:features');
  assert.equal(serializeStandalone(features, true), '<stream:features xmlns:stream="http://etherx.jabber.org/streams"/>');
  assert.equal(serializeStandalone(features, false), '<stream:features/>');
});

test('elements with their own namespace are written as they are', () => {
  const success = xml('success', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl' });
  assert.equal(serializeStandalone(success, true), '<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
});

test('a received stanza without a namespace is adopted into jabber:client and detached', () => {
  const body = xml('body', { xmlns: 'http://jabber.org/protocol/httpbind' }, xml('iq', { type: 'get' }));
  const iq = adoptClientNamespace(body.getChildElements()[0]!);
  assert.equal(iq.parent, null);
  assert.equal(iq.getNS(), 'jabber:client');
  const auth = adoptClientNamespace(xml('auth', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl' }));
  assert.equal(auth.attrs.xmlns, 'urn:ietf:params:xml:ns:xmpp-sasl');
});

test('a stanza serialized by another node gets the same namespace as serializeStandalone gives it', () => {
  const cases = [
    xml('message', { to: 'a@b', title: 'x > y' }, xml('body', null, 'hi > there')),
    xml('iq', { type: 'get', id: '1' }),
    xml('presence'),
    xml('message', { xmlns: 'jabber:client', to: 'a@b' }),
    xml('message', { xmlns: 'jabber:server' }),
  ];
  for (const el of cases) assert.equal(withClientNamespace(el.toString()), serializeStandalone(el, false), el.toString());
  assert.equal(withClientNamespace('<stream:error/>'), '<stream:error/>', 'only stanzas');
});
