import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from './stream-parser.ts';
import { mayArchive, processingHints } from './processing-hints.ts';

test('hints are read from direct children in the hints namespace only', () => {
  const m = parseXml(`<message xmlns='jabber:client'><body>x</body><no-copy xmlns='urn:xmpp:hints'/><store xmlns='urn:xmpp:hints'/></message>`);
  assert.deepEqual(processingHints(m), { noCopy: true, noStore: false, noPermanentStore: false, store: true });
  const elsewhere = parseXml(`<message xmlns='jabber:client'><no-copy/><x xmlns='urn:example'><no-store xmlns='urn:xmpp:hints'/></x><unknown xmlns='urn:xmpp:hints'/></message>`);
  assert.deepEqual(processingHints(elsewhere), { noCopy: false, noStore: false, noPermanentStore: false, store: false });
});

test('an archive keeps neither no-store nor no-permanent-store messages', () => {
  const hinted = (hint: string) => processingHints(parseXml(`<message xmlns='jabber:client'><body>x</body><${hint} xmlns='urn:xmpp:hints'/></message>`));
  assert.equal(mayArchive(hinted('no-store')), false);
  assert.equal(mayArchive(hinted('no-permanent-store')), false);
  assert.equal(mayArchive(hinted('no-copy')), true);
});
