// PEP access models and node administration against a real server process, on both
// databases: presence, open and whitelist nodes, affiliations, node configuration,
// creation, deletion with its notification, purge, disco#items of an account and
// disco#info of a node, and the roster access model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import type { RosterItem } from '../../server/storage/types.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { NS_OWNER, NS_PUBSUB, answerCaps, eventContent, expectEvent, publishIq, pubsubCondition } from '../helpers/pep-client.ts';

const ITEMS = 'http://jabber.org/protocol/disco#items';
const INFO = 'http://jabber.org/protocol/disco#info';
const contact = (jid: string, subscription: RosterItem['subscription']): RosterItem => ({
  jid, name: null, subscription, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [],
});
const getItems = (to: string, node: string): string => `<iq type='get' to='${to}'><pubsub xmlns='${NS_PUBSUB}'><items node='${node}'/></pubsub></iq>`;
const itemIds = (iq: Element): string[] => iq.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id!);
const configField = (iq: Element, name: string): string | undefined =>
  iq.getChild('pubsub', NS_OWNER)!.getChild('configure')!.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attrs.var === name)?.getChildText('value');
const configure = (node: string, fields: Record<string, string>): string =>
  `<iq type='set'><pubsub xmlns='${NS_OWNER}'><configure node='${node}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>${Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('')}</x></configure></pubsub></iq>`;

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`PEP access models and administration (${dialect})`, () => {
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;
    let carol: RawClient;

    before(async () => {
      server = await startTestServer({ dialect });
      for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
      const storage = await server.storage();
      await storage.roster.put('alice', contact('bob@localhost', 'both'));
      await storage.roster.put('bob', contact('alice@localhost', 'both'));
      await storage.roster.put('alice', { ...contact('dave@localhost', 'both'), groups: ['Family'] });
      await storage.roster.put('dave', contact('alice@localhost', 'both'));
      alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
      bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
      carol = await RawClient.login(server.c2sPort, 'carol', 'secret');
      bob.send(answerCaps(bob).presence(['urn:example:private+notify', 'urn:example:gone+notify']));
      await new Promise((r) => setTimeout(r, 300));
    });

    after(async () => {
      for (const c of [alice, bob, carol]) await c?.close();
      await server?.stop();
    });

    test('an open node is readable by anyone, a stranger included', async () => {
      await alice.iq(publishIq('urn:example:open', '1', `<p xmlns='urn:example:open'/>`, { 'pubsub#access_model': 'open' }));
      assert.deepEqual(itemIds(await carol.iq(getItems('alice@localhost', 'urn:example:open'))), ['1']);
    });

    test('a whitelist node is the owner\'s until an affiliation lets a contact in; an outcast stays out of an open node', async () => {
      const published = await alice.iq(publishIq('urn:example:private', 'p', `<p xmlns='urn:example:private'/>`, { 'pubsub#access_model': 'whitelist' }));
      assert.equal(published.attrs.type, 'result');
      assert.ok(await bob.nothing((el) => el.name === 'message', 500), 'a whitelist node does not notify contacts');
      const refused = await bob.iq(getItems('alice@localhost', 'urn:example:private'));
      assert.equal(errorCondition(refused), 'not-allowed');
      assert.equal(pubsubCondition(refused), 'closed-node');
      const set = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_OWNER}'><affiliations node='urn:example:private'><affiliation jid='bob@localhost' affiliation='member'/></affiliations></pubsub></iq>`);
      assert.equal(set.attrs.type, 'result');
      const list = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_OWNER}'><affiliations node='urn:example:private'/></pubsub></iq>`);
      const entries = list.getChild('pubsub')!.getChild('affiliations')!.getChildren('affiliation').map((a) => `${a.attrs.jid}=${a.attrs.affiliation}`);
      assert.deepEqual(entries, ['alice@localhost=owner', 'bob@localhost=member']);
      assert.deepEqual(itemIds(await bob.iq(getItems('alice@localhost', 'urn:example:private'))), ['p']);
      const toBob = expectEvent(bob, 'urn:example:private');
      await alice.iq(publishIq('urn:example:private', 'p2', `<p xmlns='urn:example:private'/>`));
      assert.equal(eventContent(await toBob).getChild('item')!.attrs.id, 'p2');
      await alice.iq(`<iq type='set'><pubsub xmlns='${NS_OWNER}'><affiliations node='urn:example:open'><affiliation jid='carol@localhost' affiliation='outcast'/></affiliations></pubsub></iq>`);
      assert.equal(errorCondition(await carol.iq(getItems('alice@localhost', 'urn:example:open'))), 'forbidden');
      const bad = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_OWNER}'><affiliations node='urn:example:open'><affiliation jid='carol@localhost' affiliation='king'/></affiliations></pubsub></iq>`);
      assert.equal(errorCondition(bad), 'bad-request');
      const byOther = await bob.iq(`<iq type='get' to='alice@localhost'><pubsub xmlns='${NS_OWNER}'><affiliations node='urn:example:open'/></pubsub></iq>`);
      assert.equal(errorCondition(byOther), 'forbidden');
    });

    test('the configuration is read and changed by the owner only, and publish-options are checked against it', async () => {
      await alice.iq(publishIq('urn:example:conf', '1', `<c xmlns='urn:example:conf'/>`));
      const form = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_OWNER}'><configure node='urn:example:conf'/></pubsub></iq>`);
      assert.equal(configField(form, 'pubsub#access_model'), 'presence');
      assert.equal(configField(form, 'pubsub#max_items'), '1');
      assert.equal((await alice.iq(configure('urn:example:conf', { 'pubsub#access_model': 'open', 'pubsub#max_items': '10' }))).attrs.type, 'result');
      const changed = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_OWNER}'><configure node='urn:example:conf'/></pubsub></iq>`);
      assert.equal(configField(changed, 'pubsub#access_model'), 'open');
      assert.equal(configField(changed, 'pubsub#max_items'), '10');
      const ok = await alice.iq(publishIq('urn:example:conf', '2', `<c xmlns='urn:example:conf'/>`, { 'pubsub#access_model': 'open' }));
      assert.equal(ok.attrs.type, 'result');
      const mismatch = await alice.iq(publishIq('urn:example:conf', '3', `<c xmlns='urn:example:conf'/>`, { 'pubsub#access_model': 'whitelist' }));
      assert.equal(errorCondition(mismatch), 'conflict');
      assert.equal(pubsubCondition(mismatch), 'precondition-not-met');
      const unsupported = await alice.iq(configure('urn:example:conf', { 'pubsub#access_model': 'authorize' }));
      assert.equal(errorCondition(unsupported), 'not-acceptable');
      assert.equal(pubsubCondition(unsupported), 'unsupported-access-model');
      const byOther = await bob.iq(`<iq type='get' to='alice@localhost'><pubsub xmlns='${NS_OWNER}'><configure node='urn:example:conf'/></pubsub></iq>`);
      assert.equal(errorCondition(byOther), 'forbidden');
      const missing = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_OWNER}'><configure node='urn:example:none'/></pubsub></iq>`);
      assert.equal(errorCondition(missing), 'item-not-found');
      const defaults = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_OWNER}'><default/></pubsub></iq>`);
      assert.ok(defaults.getChild('pubsub')!.getChild('default')!.getChild('x', 'jabber:x:data'));
    });

    test('create makes an empty node once, with a configuration; without a name it is refused', async () => {
      const create = `<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><create node='urn:example:made'/><configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>open</value></field></x></configure></pubsub></iq>`;
      assert.equal((await alice.iq(create)).attrs.type, 'result');
      assert.equal(errorCondition(await alice.iq(create)), 'conflict');
      assert.deepEqual(itemIds(await carol.iq(getItems('alice@localhost', 'urn:example:made'))), []);
      const instant = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><create/></pubsub></iq>`);
      assert.equal(errorCondition(instant), 'not-acceptable');
      assert.equal(pubsubCondition(instant), 'nodeid-required');
    });

    test('disco#items lists the nodes each requester may see, and a node\'s items', async () => {
      const nodes = (iq: Element): string[] => iq.getChild('query', ITEMS)!.getChildren('item').map((i) => i.attrs.node!).sort();
      const own = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='${ITEMS}'/></iq>`);
      assert.deepEqual(nodes(own), ['urn:example:conf', 'urn:example:made', 'urn:example:open', 'urn:example:private']);
      const bobs = await bob.iq(`<iq type='get' to='alice@localhost'><query xmlns='${ITEMS}'/></iq>`);
      assert.deepEqual(nodes(bobs), ['urn:example:conf', 'urn:example:made', 'urn:example:open', 'urn:example:private']);
      const carols = await carol.iq(`<iq type='get' to='alice@localhost'><query xmlns='${ITEMS}'/></iq>`);
      assert.deepEqual(nodes(carols), ['urn:example:conf', 'urn:example:made'], 'open nodes only, and not the one she is an outcast of');
      const items = await alice.iq(`<iq type='get' to='alice@localhost'><query xmlns='${ITEMS}' node='urn:example:conf'/></iq>`);
      assert.deepEqual(items.getChild('query')!.getChildren('item').map((i) => i.attrs.name), ['1', '2']);
      const nobody = await carol.iq(`<iq type='get' to='nobody@localhost'><query xmlns='${ITEMS}'/></iq>`);
      assert.equal(nobody.attrs.type, 'result', 'no account is an empty list, as XEP-0030 section 8 has it');
      assert.deepEqual(nodes(nobody), []);
    });

    test('deleting a node removes it and tells those who got its notifications', async () => {
      await alice.iq(publishIq('urn:example:gone', '1', `<g xmlns='urn:example:gone'/>`));
      await expectEvent(bob, 'urn:example:gone');
      const told = expectEvent(bob, 'urn:example:gone');
      assert.equal((await alice.iq(`<iq type='set'><pubsub xmlns='${NS_OWNER}'><delete node='urn:example:gone'/></pubsub></iq>`)).attrs.type, 'result');
      assert.equal(eventContent(await told).name, 'delete');
      assert.equal(errorCondition(await bob.iq(getItems('alice@localhost', 'urn:example:gone'))), 'item-not-found');
      const again = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_OWNER}'><delete node='urn:example:gone'/></pubsub></iq>`);
      assert.equal(errorCondition(again), 'item-not-found');
    });

    test('a roster node is open to contacts in its allowed groups only, and its form lists them', async () => {
      const dave = await RawClient.login(server.c2sPort, 'dave', 'secret');
      try {
        dave.send(answerCaps(dave).presence(['urn:example:family+notify']));
        await new Promise((r) => setTimeout(r, 300));
        await alice.iq(publishIq('urn:example:family', '1', `<f xmlns='urn:example:family'/>`, { 'pubsub#access_model': 'roster' }));
        assert.equal((await alice.iq(configure('urn:example:family', { 'pubsub#roster_groups_allowed': 'Family' }))).attrs.type, 'result');
        const form = await alice.iq(`<iq type='get'><pubsub xmlns='${NS_OWNER}'><configure node='urn:example:family'/></pubsub></iq>`);
        assert.equal(configField(form, 'pubsub#access_model'), 'roster');
        assert.equal(configField(form, 'pubsub#roster_groups_allowed'), 'Family');
        assert.deepEqual(itemIds(await dave.iq(getItems('alice@localhost', 'urn:example:family'))), ['1']);
        const refused = await bob.iq(getItems('alice@localhost', 'urn:example:family'));
        assert.equal(errorCondition(refused), 'not-authorized');
        assert.equal(pubsubCondition(refused), 'not-in-roster-group');
        const toDave = expectEvent(dave, 'urn:example:family');
        await alice.iq(publishIq('urn:example:family', '2', `<f xmlns='urn:example:family'/>`));
        assert.equal(eventContent(await toDave).getChild('item')!.attrs.id, '2');
        const bad = await alice.iq(configure('urn:example:family', { 'pubsub#access_model': 'authorize' }));
        assert.equal(errorCondition(bad), 'not-acceptable');
        assert.equal(pubsubCondition(bad), 'unsupported-access-model');
      } finally {
        await dave.close();
      }
    });

    test('purging a node removes its items, by the owner only, and tells those notified', async () => {
      const published = expectEvent(bob, 'urn:example:private');
      await alice.iq(publishIq('urn:example:private', 'p3', `<p xmlns='urn:example:private'/>`));
      await published;
      const purge = `<iq type='set' to='alice@localhost'><pubsub xmlns='${NS_OWNER}'><purge node='urn:example:private'/></pubsub></iq>`;
      assert.equal(errorCondition(await bob.iq(purge)), 'forbidden');
      const toBob = expectEvent(bob, 'urn:example:private');
      assert.equal((await alice.iq(purge)).attrs.type, 'result');
      assert.equal(eventContent(await toBob).name, 'purge');
      assert.deepEqual(itemIds(await alice.iq(getItems('alice@localhost', 'urn:example:private'))), []);
      const missing = await alice.iq(`<iq type='set'><pubsub xmlns='${NS_OWNER}'><purge node='urn:example:none'/></pubsub></iq>`);
      assert.equal(errorCondition(missing), 'item-not-found');
    });

    test('disco#info of a node gives its identity and metadata to whoever may see it', async () => {
      await alice.iq(publishIq('urn:example:info', '1', `<i xmlns='urn:example:info'/>`, { 'pubsub#access_model': 'open' }));
      const info = await carol.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}' node='urn:example:info'/></iq>`);
      const query = info.getChild('query', INFO)!;
      assert.equal(query.attrs.node, 'urn:example:info');
      assert.deepEqual(query.getChildren('identity').map((i) => `${i.attrs.category}/${i.attrs.type}`), ['pubsub/leaf']);
      const fields = query.getChild('x', 'jabber:x:data')!.getChildren('field');
      const value = (name: string): string | undefined => fields.find((f) => f.attrs.var === name)?.getChildText('value');
      assert.equal(value('FORM_TYPE'), 'http://jabber.org/protocol/pubsub#meta-data');
      assert.equal(value('pubsub#access_model'), 'open');
      assert.equal(value('pubsub#owner'), 'alice@localhost');
      const hidden = await carol.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}' node='urn:example:family'/></iq>`);
      assert.equal(errorCondition(hidden), 'not-authorized');
      const unknown = await bob.iq(`<iq type='get' to='alice@localhost'><query xmlns='${INFO}' node='urn:example:none'/></iq>`);
      assert.equal(errorCondition(unknown), 'item-not-found');
      // Without a node, the account's own info is still the disco module's answer.
      const account = await alice.iq(`<iq type='get'><query xmlns='${INFO}'/></iq>`);
      assert.ok(account.getChild('query')!.getChildren('identity').some((i) => i.attrs.category === 'account'));
    });
  });
}
