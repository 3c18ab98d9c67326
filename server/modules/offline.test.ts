import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../xml/stream-parser.ts';
import { stamped, worthStoring } from './offline.ts';

const msg = (text: string) => parseXml(text);

test('messages with a body or subject are worth storing; chat states and receipts alone are not', () => {
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client' type='chat'><body>hi</body></message>`)), true);
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client'><subject>topic</subject></message>`)), true);
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)), false);
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='x'/></message>`)), false);
});

test('headline, groupchat and error messages are never stored', () => {
  for (const type of ['headline', 'groupchat', 'error']) {
    assert.equal(worthStoring(msg(`<message xmlns='jabber:client' type='${type}'><body>x</body></message>`)), false, type);
  }
});

test('XEP-0334 hints decide either way', () => {
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>`)), false);
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client'><encrypted xmlns='eu.siacs.conversations.axolotl'/><store xmlns='urn:xmpp:hints'/></message>`)), true);
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client' type='chat'><body>x</body><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>`)), false, 'no-store wins');
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client' type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`)), true,
    'no-permanent-store allows the temporary store of offline delivery (XEP-0334)');
  assert.equal(worthStoring(msg(`<message xmlns='jabber:client' type='headline'><body>x</body><store xmlns='urn:xmpp:hints'/></message>`)), false,
    'a headline reaches no offline store, hint or not');
});

test('the stored copy carries a delay stamp and leaves the original alone', () => {
  const original = msg(`<message xmlns='jabber:client' to='bob@localhost' id='m1'><body>hi</body></message>`);
  const copy = stamped(original, 'localhost', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
  const again = parseXml(copy.toString());
  const delay = again.getChild('delay', 'urn:xmpp:delay')!;
  assert.equal(delay.attrs.from, 'localhost');
  assert.equal(delay.attrs.stamp, '2026-01-02T03:04:05.000Z');
  assert.equal(again.getChildText('body'), 'hi');
  assert.equal(original.getChild('delay'), undefined);
});
