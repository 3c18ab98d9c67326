// XEP-0030 against a real server process: the server's and accounts' info and items.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';
const features = (iq: Element): string[] => iq.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var!);

let server: TestServer;
let alice: RawClient;
let bob: RawClient;
let carol: RawClient;

before(async () => {
  server = await startTestServer();
  for (const u of ['alice', 'bob', 'carol']) await server.addUser(u, 'secret');
  // bob may see alice's presence (she granted him a subscription); carol may not.
  const storage = await server.storage();
  await storage.roster.put('alice', {
    jid: 'bob@localhost', name: null, subscription: 'from', askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [],
  });
  alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
  bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
  carol = await RawClient.login(server.c2sPort, 'carol', 'secret');
});

after(async () => {
  for (const c of [alice, bob, carol]) await c?.close();
  await server?.stop();
});

test('the server identifies as server/im and lists its features, disco itself included', async () => {
  const answer = await alice.iq(`<iq type='get' to='localhost'><query xmlns='${INFO}'/></iq>`);
  assert.equal(answer.attrs.type, 'result');
  const identity = answer.getChild('query')!.getChild('identity')!;
  assert.deepEqual([identity.attrs.category, identity.attrs.type], ['server', 'im']);
  const vars = features(answer);
  for (const f of [INFO, ITEMS, 'urn:xmpp:ping', 'vcard-temp', 'msgoffline', 'urn:xmpp:blocking', 'jabber:iq:last']) {
    assert.ok(vars.includes(f), `has ${f}`);
  }
  assert.equal(new Set(vars).size, vars.length, 'no feature is listed twice');
});

test('the server lists its services: the file transfer proxy and group chat', async () => {
  const answer = await alice.iq(`<iq type='get' to='localhost'><query xmlns='${ITEMS}'/></iq>`);
  assert.equal(answer.attrs.type, 'result');
  assert.deepEqual(answer.getChild('query', ITEMS)!.getChildElements().map((i) => i.attrs.jid), ['proxy.localhost', 'conference.localhost']);
});

test('an unknown node of the server is item-not-found, for info and items', async () => {
  for (const ns of [INFO, ITEMS]) {
    const answer = await alice.iq(`<iq type='get' to='localhost'><query xmlns='${ns}' node='nonsense'/></iq>`);
    assert.equal(answer.attrs.type, 'error');
    assert.equal(errorCondition(answer), 'item-not-found');
  }
});

test('an account answers its owner with account/registered and account features', async () => {
  const answer = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}'/></iq>`);
  assert.equal(answer.attrs.type, 'result');
  assert.equal(answer.attrs.from, 'alice@localhost');
  const identity = answer.getChild('query')!.getChild('identity')!;
  assert.deepEqual([identity.attrs.category, identity.attrs.type], ['account', 'registered']);
  const vars = features(answer);
  assert.ok(vars.includes(INFO) && vars.includes('vcard-temp') && vars.includes('jabber:iq:last'));
  assert.ok(!vars.includes('urn:xmpp:ping'), 'server-only features are not listed for accounts');
});

test('a subscribed contact may discover the account, items included', async () => {
  const info = await bob.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}'/></iq>`);
  assert.equal(info.attrs.type, 'result');
  const items = await bob.iq(`<iq type='get' to='alice@localhost'><query xmlns='${ITEMS}'/></iq>`);
  assert.equal(items.attrs.type, 'result');
  assert.equal(items.getChild('query', ITEMS)!.getChildElements().length, 0);
});

test('anyone else gets service-unavailable for info, the same as for an account that does not exist', async () => {
  const stranger = await carol.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}'/></iq>`);
  assert.equal(errorCondition(stranger), 'service-unavailable');
  const missing = await carol.iq(`<iq type='get' to='nobody@localhost'><query xmlns='${INFO}'/></iq>`);
  assert.equal(errorCondition(missing), 'service-unavailable');
});

test('items the requester may not see are an empty result, not an error (XEP-0030 section 8)', async () => {
  for (const to of ['alice@localhost', 'nobody@localhost']) {
    const items = await carol.iq(`<iq type='get' to='${to}'><query xmlns='${ITEMS}'/></iq>`);
    assert.equal(items.attrs.type, 'result', String(items));
    assert.equal(items.attrs.from, to);
    assert.equal(items.getChild('query', ITEMS)!.getChildElements().length, 0);
  }
  // A node that is not there is item-not-found (XEP-0060 5.5), the same for an account that
  // does not exist: the answer tells nothing about the account.
  for (const to of ['alice@localhost', 'nobody@localhost']) {
    const node = await carol.iq(`<iq type='get' to='${to}'><query xmlns='${ITEMS}' node='x'/></iq>`);
    assert.equal(errorCondition(node), 'item-not-found', String(node));
  }
});

test('an unknown node of an account is item-not-found', async () => {
  const answer = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}' node='x'/></iq>`);
  assert.equal(errorCondition(answer), 'item-not-found');
});
