import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../xml/stream-parser.ts';
import { archivable } from './archive-rules.ts';
import { shouldArchive } from './prefs.ts';
import { stripOwnStanzaIds } from './stanza-id.ts';

const m = (text: string): ReturnType<typeof parseXml> => parseXml(text);

test('chat and normal messages with a body are archived; hints decide', () => {
  assert.equal(archivable(m("<message type='chat'><body>x</body></message>")), true);
  assert.equal(archivable(m('<message><body>x</body></message>')), true);
  for (const type of ['headline', 'groupchat', 'error']) assert.equal(archivable(m(`<message type='${type}'><body>x</body></message>`)), false, type);
  assert.equal(archivable(m("<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>")), false);
  assert.equal(archivable(m("<message><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>")), false);
  assert.equal(archivable(m("<message><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>")), false);
  assert.equal(archivable(m("<message><received xmlns='urn:xmpp:receipts'/><store xmlns='urn:xmpp:hints'/></message>")), true);
  assert.equal(archivable(m("<message><body>x</body><no-store xmlns='urn:other'/></message>")), true, 'only the hints namespace');
});

test('preferences: never wins over always, then the default, roster asks the roster', async () => {
  const prefs = { default: 'roster' as const, always: ['a@x', 'n@x'], never: ['n@x'] };
  assert.equal(shouldArchive(prefs, 'n@x', () => true), false);
  assert.equal(shouldArchive(prefs, 'a@x', () => false), true);
  assert.equal(await shouldArchive(prefs, 'c@x', () => Promise.resolve(true)), true);
  assert.equal(await shouldArchive(prefs, 'c@x', () => false), false);
  assert.equal(shouldArchive({ default: 'never', always: [], never: [] }, 'c@x', () => true), false);
  assert.equal(shouldArchive({ default: 'always', always: [], never: [] }, 'c@x', () => false), true);
});

test('stanza-ids claiming to be this domain\'s are removed, others kept', () => {
  const msg = m("<message><stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='1'/><stanza-id xmlns='urn:xmpp:sid:0' by='localhost' id='2'/><stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example' id='3'/><stanza-id xmlns='urn:other' by='bob@localhost' id='4'/><body>x</body></message>");
  stripOwnStanzaIds(msg, 'localhost');
  assert.deepEqual(msg.getChildElements().map((c) => c.attrs.id ?? c.name), ['3', '4', 'body']);
});
