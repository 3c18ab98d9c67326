// XEP-0054 against a real server process, on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const VCARD = `<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>alice &amp; co</NICKNAME><EMAIL><INTERNET/><USERID>alice@example.org</USERID></EMAIL></vCard>`;

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`vcard-temp (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;

    before(async () => {
      server = await startTestServer({ dialect, properties: { 'xmpp.vcard.max-bytes': '1024' } });
      await server.addUser('alice', 'secret');
      await server.addUser('bob', 'secret');
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
    });

    after(async () => {
      await alice?.close();
      await bob?.close();
      await server?.stop();
    });

    test('without a vCard, getting one\'s own is item-not-found', async () => {
      const answer = await alice.iq(`<iq type='get'><vCard xmlns='vcard-temp'/></iq>`);
      assert.equal(answer.attrs.type, 'error');
      assert.equal(errorCondition(answer), 'item-not-found');
    });

    test('a user stores a vCard and gets it back as stored', async () => {
      const set = await alice.iq(`<iq type='set'>${VCARD}</iq>`);
      assert.equal(set.attrs.type, 'result');
      const answer = await alice.iq(`<iq type='get'><vCard xmlns='vcard-temp'/></iq>`);
      assert.equal(answer.attrs.type, 'result');
      const vcard = answer.getChild('vCard', 'vcard-temp')!;
      assert.equal(vcard.getChildText('FN'), 'Alice Liddell');
      assert.equal(vcard.getChildText('NICKNAME'), 'alice & co');
      assert.equal(vcard.getChild('EMAIL')!.getChildText('USERID'), 'alice@example.org');
    });

    test('another user reads the vCard at the bare JID, answered by the server', async () => {
      const answer = await bob.iq(`<iq type='get' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`);
      assert.equal(answer.attrs.type, 'result');
      assert.equal(answer.attrs.from, 'alice@localhost');
      assert.equal(answer.getChild('vCard', 'vcard-temp')!.getChildText('FN'), 'Alice Liddell');
    });

    test('a replaced vCard replaces the whole of it', async () => {
      await alice.iq(`<iq type='set'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`);
      const vcard = (await bob.iq(`<iq type='get' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`)).getChild('vCard')!;
      assert.equal(vcard.getChildText('FN'), 'Alice');
      assert.equal(vcard.getChild('NICKNAME'), undefined);
    });

    test('a user without a vCard and a user that does not exist give the same error', async () => {
      const none = await alice.iq(`<iq type='get' to='bob@localhost'><vCard xmlns='vcard-temp'/></iq>`);
      const missing = await alice.iq(`<iq type='get' to='nobody@localhost'><vCard xmlns='vcard-temp'/></iq>`);
      assert.equal(errorCondition(none), 'item-not-found');
      assert.equal(errorCondition(missing), 'item-not-found');
    });

    test('setting someone else\'s vCard is forbidden and changes nothing', async () => {
      const answer = await bob.iq(`<iq type='set' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>`);
      assert.equal(answer.attrs.type, 'error');
      assert.equal(errorCondition(answer), 'forbidden');
      const vcard = (await alice.iq(`<iq type='get'><vCard xmlns='vcard-temp'/></iq>`)).getChild('vCard')!;
      assert.equal(vcard.getChildText('FN'), 'Alice');
    });

    test('a vCard larger than xmpp.vcard.max-bytes is refused with not-acceptable', async () => {
      const photo = 'A'.repeat(2000);
      const answer = await alice.iq(`<iq type='set'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>${photo}</BINVAL></PHOTO></vCard></iq>`);
      assert.equal(answer.attrs.type, 'error');
      assert.equal(errorCondition(answer), 'not-acceptable');
      assert.match(answer.getChild('error')!.getChildText('text') ?? '', /1024/);
      const vcard = (await alice.iq(`<iq type='get'><vCard xmlns='vcard-temp'/></iq>`)).getChild('vCard')!;
      assert.equal(vcard.getChild('PHOTO'), undefined, 'the old vCard is kept');
    });

    test('the server advertises vcard-temp', async () => {
      const info = await alice.iq(`<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === 'vcard-temp'));
    });
  });
}
