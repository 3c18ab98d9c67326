// The server's own XEP-0115 caps and its disco#info against a real server process: the
// <c/> of the stream features, whose ver this test computes again from the disco#info
// answer; the caps node; the XEP-0157 contact addresses as an XEP-0128 form; and the ver
// following a change of the addresses and a plugin that adds a feature.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { waitFor, writePluginFolder } from '../plugins/fixtures.ts';

const INFO = 'http://jabber.org/protocol/disco#info';
const CAPS = 'http://jabber.org/protocol/caps';
const DATA = 'jabber:x:data';

let server: TestServer;
let alice: RawClient;

/**
 * XEP-0115 section 5.1, written out again for the test: identities as
 * category/type/lang/name, features, then each form (by FORM_TYPE) with its fields (by var)
 * and their values, every item followed by '<', every list in UTF-8 byte order.
 */
function expectedVer(query: Element): string {
  const sorted = (items: string[]): string[] => items.map((x) => Buffer.from(x)).sort(Buffer.compare).map((b) => b.toString());
  const parts: string[] = [];
  parts.push(...sorted(query.getChildren('identity').map((i) => [i.attrs.category, i.attrs.type, i.attrs['xml:lang'], i.attrs.name].map((p) => p ?? '').join('/'))));
  parts.push(...sorted(query.getChildren('feature').map((f) => f.attrs.var!)));
  const typeOf = (form: Element): string => form.getChildren('field').find((f) => f.attrs.var === 'FORM_TYPE')!.getChildText('value')!;
  const forms = query.getChildren('x', DATA);
  for (const type of sorted(forms.map(typeOf))) {
    parts.push(type);
    const form = forms.find((f) => typeOf(f) === type)!;
    const fields = form.getChildren('field').filter((f) => f.attrs.var !== 'FORM_TYPE');
    for (const name of sorted(fields.map((f) => f.attrs.var!))) {
      parts.push(name, ...sorted(fields.find((f) => f.attrs.var === name)!.getChildren('value').map((v) => v.getText())));
    }
  }
  return createHash('sha1').update(parts.map((p) => `${p}<`).join('')).digest('base64');
}

async function caps(): Promise<Element> {
  const c = await RawClient.connect(server.c2sPort);
  try {
    const features = await c.open();
    const el = features.getChild('c', CAPS);
    assert.ok(el, `the stream features carry caps: ${features}`);
    return el;
  } finally {
    c.destroy();
  }
}

async function hostInfo(node?: string): Promise<Element> {
  const attr = node === undefined ? '' : ` node='${node}'`;
  return alice.iq(`<iq type='get' to='localhost'><query xmlns='${INFO}'${attr}/></iq>`);
}

before(async () => {
  server = await startTestServer({
    properties: {
      'xmpp.contact.abuse': 'mailto:abuse@localhost, xmpp:abuse@localhost',
      'xmpp.contact.security': 'https://localhost/security',
      'plugins.scan-interval': '1',
    },
  });
  await server.addUser('alice', 'secret');
  alice = await RawClient.login(server.c2sPort, 'alice', 'secret');
});

after(async () => {
  await alice?.close();
  await server?.stop();
});

test('the stream features carry sha-1 caps whose ver hashes the disco#info answer', async () => {
  const c = await caps();
  assert.equal(c.attrs.hash, 'sha-1');
  assert.ok(c.attrs.node && c.attrs.ver, String(c));
  const info = await hostInfo();
  assert.equal(c.attrs.ver, expectedVer(info.getChild('query', INFO)!));
  // After authentication too, beside roster versioning and pre-approval.
  const features = await (async () => {
    const raw = await RawClient.connect(server.c2sPort);
    await raw.open();
    await raw.authPlain('alice', 'secret');
    const f = await raw.open();
    raw.destroy();
    return f;
  })();
  assert.equal(features.getChild('c', CAPS)?.attrs.ver, c.attrs.ver);
  assert.ok(features.getChild('ver', 'urn:xmpp:features:rosterver'), 'roster versioning is a stream feature');
  assert.ok(features.getChild('sub', 'urn:xmpp:features:pre-approval'));
});

test('disco#info lists every implemented feature, and the caps node answers the same with its node', async () => {
  const info = (await hostInfo()).getChild('query', INFO)!;
  const vars = info.getChildren('feature').map((f) => f.attrs.var);
  for (const f of [INFO, 'http://jabber.org/protocol/disco#items', CAPS, 'jabber:iq:roster', 'urn:xmpp:carbons:2', 'urn:xmpp:ping', 'jabber:iq:version',
    'urn:xmpp:time', 'jabber:iq:last', 'vcard-temp', 'jabber:iq:private', 'urn:xmpp:blocking', 'msgoffline', 'jabber:iq:register']) {
    assert.ok(vars.includes(f), `has ${f}`);
  }
  assert.ok(!vars.includes('urn:xmpp:features:rosterver'), 'stream features are not disco features');
  const { node, ver } = (await caps()).attrs;
  const answer = await hostInfo(`${node}#${ver}`);
  assert.equal(answer.attrs.type, 'result');
  const query = answer.getChild('query', INFO)!;
  assert.equal(query.attrs.node, `${node}#${ver}`);
  assert.deepEqual(query.getChildren('feature').map((f) => f.attrs.var), vars);
  assert.equal(errorCondition(await hostInfo(`${node}#notthever`)), 'item-not-found');
});

test('the contact addresses are a serverinfo form with the kinds that have addresses only', async () => {
  const forms = (await hostInfo()).getChild('query', INFO)!.getChildren('x', DATA);
  assert.equal(forms.length, 1);
  const fields = new Map(forms[0]!.getChildren('field').map((f) => [f.attrs.var!, f]));
  assert.equal(fields.get('FORM_TYPE')!.attrs.type, 'hidden');
  assert.equal(fields.get('FORM_TYPE')!.getChildText('value'), 'http://jabber.org/network/serverinfo');
  assert.deepEqual(fields.get('abuse-addresses')!.getChildren('value').map((v) => v.getText()), ['mailto:abuse@localhost', 'xmpp:abuse@localhost']);
  assert.deepEqual(fields.get('security-addresses')!.getChildren('value').map((v) => v.getText()), ['https://localhost/security']);
  assert.deepEqual([...fields.keys()].sort(), ['FORM_TYPE', 'abuse-addresses', 'security-addresses']);
});

test('a changed address, or a plugin adding a feature, changes the ver; a value that is no URI is ignored', async () => {
  const before = (await caps()).attrs.ver;
  await server.setProperty('xmpp.contact.support', 'xmpp:help@localhost');
  // Stored behind the server's back, unchecked: the server ignores it and keeps the default.
  await server.setProperty('xmpp.contact.sales', 'sales at localhost');
  const changed = await waitFor(async () => {
    const ver = (await caps()).attrs.ver;
    return ver !== before ? ver : null;
  }, 10_000, 'the ver to follow the new support address');
  const info = (await hostInfo()).getChild('query', INFO)!;
  assert.equal(changed, expectedVer(info));
  const vars = info.getChild('x', DATA)!.getChildren('field').map((f) => f.attrs.var);
  assert.ok(vars.includes('support-addresses'));
  assert.ok(!vars.includes('sales-addresses'), 'the invalid value is not shown');

  writePluginFolder(server.pluginsDir, { name: 'caps-feature', load: `ctx.feature('urn:example:caps-test');` });
  const withPlugin = await waitFor(async () => {
    const ver = (await caps()).attrs.ver;
    return ver !== changed ? ver : null;
  }, 15_000, 'the ver to follow the plugin\'s feature');
  const now = (await hostInfo()).getChild('query', INFO)!;
  assert.ok(now.getChildren('feature').some((f) => f.attrs.var === 'urn:example:caps-test'));
  assert.equal(withPlugin, expectedVer(now));
});
