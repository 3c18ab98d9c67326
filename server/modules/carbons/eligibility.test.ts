import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../xml/stream-parser.ts';
import { carbonCopy } from './carbon-copy.ts';
import { eligibleForCarbons } from './eligibility.ts';

const eligible = (text: string): boolean => eligibleForCarbons(parseXml(text));

test('chat is copied, normal only with a body, other types never', () => {
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`), true);
  assert.equal(eligible(`<message xmlns='jabber:client'><body>hi</body></message>`), true);
  assert.equal(eligible(`<message xmlns='jabber:client' type='normal'><body>hi</body></message>`), true);
  assert.equal(eligible(`<message xmlns='jabber:client' type='normal'><received xmlns='urn:xmpp:receipts' id='1'/></message>`), false);
  for (const type of ['error', 'groupchat', 'headline']) {
    assert.equal(eligible(`<message xmlns='jabber:client' type='${type}'><body>hi</body></message>`), false, type);
  }
});

test('private, no-copy, copies themselves and chat-room messages are not copied', () => {
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>`), false);
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>`), false);
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'/></sent></message>`), false);
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'/></received></message>`), false);
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><body>x</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`), false);
  assert.equal(eligible(`<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:example'/></message>`), true, 'only the carbons namespace counts');
});

test('a copy comes from the bare JID, keeps the type and wraps the original untouched', () => {
  const original = parseXml(`<message xmlns='jabber:client' from='bob@localhost/b' to='alice@localhost/a' type='chat' id='m1'><body>hi</body></message>`);
  const copy = parseXml(carbonCopy('received', original, 'alice@localhost', 'alice@localhost/c').toString());
  assert.deepEqual([copy.attrs.from, copy.attrs.to, copy.attrs.type], ['alice@localhost', 'alice@localhost/c', 'chat']);
  const inner = copy.getChild('received', 'urn:xmpp:carbons:2')!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message', 'jabber:client')!;
  assert.equal(inner.toString(), original.toString());
  assert.equal(original.parent, null, 'the original is not moved into the copy');
  const normal = carbonCopy('sent', parseXml(`<message xmlns='jabber:client'><body>x</body></message>`), 'alice@localhost', 'alice@localhost/c');
  assert.equal(normal.attrs.type, undefined);
});
