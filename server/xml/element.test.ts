import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element, escapeAttr, escapeText, openTag, serialize, xml } from './element.ts';
import { parseXml } from './stream-parser.ts';

test('serialize writes attributes in order, skips undefined ones, self-closes empty elements', () => {
  const el = xml('iq', { type: 'get', id: undefined, to: 'a@b' }, xml('ping', { xmlns: 'urn:xmpp:ping' }));
  assert.equal(serialize(el), '<iq type="get" to="a@b"><ping xmlns="urn:xmpp:ping"/></iq>');
  assert.equal(el.toString(), serialize(el));
  assert.equal(xml('body', null, '').toString(), '<body></body>');
});

test('escapeText and escapeAttr escape what each context needs', () => {
  assert.equal(escapeText('a & b < c > d "e" \'f\''), 'a &amp; b &lt; c &gt; d "e" \'f\'');
  assert.equal(escapeAttr('a & b < c > d "e" \'f\''), 'a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;');
  assert.equal(escapeText('plain'), 'plain');
  // repeated calls are independent (no regex state kept between them)
  assert.equal(escapeText('<'), '&lt;');
  assert.equal(escapeText('<'), '&lt;');
});

test('whitespace that a parser would normalize is written as character references', () => {
  assert.equal(escapeAttr('a\tb\nc\rd'), 'a&#9;b&#10;c&#13;d');
  assert.equal(escapeText('a\tb\nc\rd'), 'a\tb\nc&#13;d');
});

test('text and attribute values survive a serialize/parse round trip', () => {
  const tricky = ['&<>"\'', 'a\tb\nc\r\nd\re', ']]>', '&amp;', 'caf\u00e9 \u4e2d \u{1F600}', ' leading and trailing ', '\ufffd'];
  for (const value of tricky) {
    const el = xml('message', { xmlns: 'jabber:client', id: value }, xml('body', null, value));
    const back = parseXml(el.toString());
    assert.equal(back.attrs.id, value, JSON.stringify(value));
    assert.equal(back.getChildText('body'), value, JSON.stringify(value));
    assert.equal(back.toString(), el.toString());
  }
});

test('getNS follows prefixes and defaults up the parent chain', () => {
  const root = xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams', xmlns: 'jabber:client' },
    xml('bind', { xmlns: 'urn:ietf:params:xml:ns:xmpp-bind' }, xml('required')),
    xml('p:x', { 'xmlns:p': 'urn:p' }, xml('p:y'), xml('z')));
  assert.equal(root.getNS(), 'http://etherx.jabber.org/streams');
  assert.equal(root.localName, 'features');
  assert.ok(root.is('features', 'http://etherx.jabber.org/streams'));
  assert.equal(root.getChild('bind')!.getChild('required')!.getNS(), 'urn:ietf:params:xml:ns:xmpp-bind');
  const x = root.getChild('x', 'urn:p')!;
  assert.equal(x.getChild('y')!.getNS(), 'urn:p');
  assert.equal(x.getChild('z')!.getNS(), 'jabber:client');
  assert.equal(root.getChildByNS('urn:p'), x);
});

test('children accessors skip text and match names and namespaces', () => {
  const el = xml('query', { xmlns: 'jabber:iq:roster' },
    'text',
    xml('item', { jid: 'a@b' }),
    xml('item', { jid: 'c@d', xmlns: 'urn:other' }),
    false, null, undefined,
    xml('group', null, 'Friends'));
  assert.equal(el.children.length, 4);
  assert.equal(el.getChildren('item').length, 2);
  assert.equal(el.getChildren('item', 'jabber:iq:roster').length, 1);
  assert.equal(el.getChild('item', 'urn:other')!.attrs.jid, 'c@d');
  assert.equal(el.getChildElements().length, 3);
  assert.equal(el.getText(), 'text');
  assert.equal(el.getChildText('group'), 'Friends');
  assert.equal(el.getChildText('missing'), undefined);
});

test('c(), append(), t() and remove() build and edit trees with parents set', () => {
  const iq = new Element('iq', { type: 'result' });
  const query = iq.c('query', { xmlns: 'jabber:iq:version' });
  query.c('name').t('xmppd');
  const extra = xml('os', null, 'linux');
  query.append(extra);
  assert.equal(query.parent, iq);
  assert.equal(extra.parent, query);
  assert.equal(iq.toString(), '<iq type="result"><query xmlns="jabber:iq:version"><name>xmppd</name><os>linux</os></query></iq>');
  query.remove(extra);
  assert.equal(query.getChild('os'), undefined);
});

test('clone() is deep and detached', () => {
  const original = parseXml("<message xmlns='jabber:client' to='a@b'><body>hi</body></message>");
  const copy = original.clone();
  assert.equal(copy.toString(), original.toString());
  assert.equal(copy.parent, null);
  assert.equal(copy.getChild('body')!.parent, copy);
  copy.attrs.to = 'c@d';
  copy.getChild('body')!.children[0] = 'changed';
  assert.equal(original.attrs.to, 'a@b');
  assert.equal(original.getChildText('body'), 'hi');
});

test('openTag writes a stream header without closing it', () => {
  assert.equal(openTag('stream:stream', { xmlns: 'jabber:client', from: 'a&b', id: undefined }),
    '<stream:stream xmlns="jabber:client" from="a&amp;b">');
});

test('an Element is an ltx Element: xmpp.js and @xmpp/xml code can use it, and their elements serialize here', async () => {
  const { default: xmppXml } = (await import('@xmpp/xml' as string)) as { default: ((name: string, attrs?: object, ...children: unknown[]) => Element) & { Element: new (...args: never[]) => object } };
  const ours = xml('message', { to: 'a@b' }, xml('body', null, 'hi'));
  assert.ok(ours instanceof xmppXml.Element, 'our element is an instance of the Element @xmpp/xml uses');
  assert.equal(ours.getChild('body')?.up(), ours, 'ltx methods are inherited');
  assert.equal(ours.getName(), 'message');
  const theirs = xmppXml('iq', { type: 'result', id: '1' }, xmppXml('query', { xmlns: 'jabber:iq:version' }));
  assert.equal(serialize(theirs), '<iq type="result" id="1"><query xmlns="jabber:iq:version"/></iq>');
  const reply = xml('iq', { type: 'result' });
  reply.append(theirs.getChildElements()[0]!);
  assert.equal(reply.toString(), '<iq type="result"><query xmlns="jabber:iq:version"/></iq>');
});
