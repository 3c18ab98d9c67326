// Stream management over WebSocket (RFC 7395): the SM elements travel one per frame like
// stanzas, and a session whose WebSocket dropped is resumed over a new one. BOSH does not
// offer it (its own acknowledgements cover the same ground).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { BoshClient } from '../http/bosh-client.ts';
import { WsClient } from '../http/ws-client.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS_SM = 'urn:xmpp:sm:3';
const isSm = (name: string) => (el: Element): boolean => el.name === name && el.attrs.xmlns === NS_SM;

let server: TestServer;

before(async () => {
  server = await startTestServer({ properties: { 'xmpp.sm.ack-request-every': '2' } });
  for (const u of ['alice', 'bob']) await server.addUser(u, 'secret');
});

after(async () => {
  await server?.stop();
});

test('enable, acks and resumption over WebSocket', async () => {
  const ws = await WsClient.connect(server.httpPort);
  const jid = await ws.login('alice', 'secret', 'web');
  const enabled = ws.expect(isSm('enabled'));
  ws.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
  const id = (await enabled).attrs.id!;
  const bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
  bob.send(`<message to='${jid}' id='w1'><body>1</body></message>`);
  bob.send(`<message to='${jid}' id='w2'><body>2</body></message>`);
  await ws.expect((el) => el.attrs.id === 'w2');
  await ws.expect(isSm('r'));
  assert.ok(ws.frames.some((f) => /^<r xmlns=['"]urn:xmpp:sm:3['"]\/>$/.test(f)), 'the request is a frame of its own');
  ws.send(`<a xmlns='${NS_SM}' h='1'/>`);
  ws.ws.terminate();
  await ws.closed;
  bob.send(`<message to='${jid}' id='w3'><body>3</body></message>`);

  const back = await WsClient.connect(server.httpPort);
  await back.open();
  const success = back.expect((el) => el.name === 'success');
  back.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`);
  await success;
  const { features } = await back.open();
  assert.ok(features.getChild('sm', NS_SM));
  const resumed = back.expect(isSm('resumed'));
  back.send(`<resume xmlns='${NS_SM}' previd='${id}' h='1'/>`);
  assert.equal((await resumed).attrs.h, '0');
  const ids = [];
  for (let i = 0; i < 2; i++) ids.push((await back.expect((el) => el.name === 'message')).attrs.id);
  assert.deepEqual(ids, ['w2', 'w3']);
  back.ws.close();
  await bob.close();
});

test('BOSH does not offer stream management and refuses <enable/>', async () => {
  const bosh = await BoshClient.create(server.httpPort);
  const auth = Buffer.from('\0bob\0secret').toString('base64');
  await bosh.until((el) => el.name === 'success', `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
  const restart = await bosh.send('', { 'xmpp:restart': 'true', to: 'localhost' });
  const features = restart.body.getChild('features') ?? restart.body.getChildElements().find((el) => el.localName === 'features');
  assert.ok(features, restart.text);
  assert.equal(features.getChild('sm', NS_SM), undefined, restart.text);
  assert.ok(features.getChild('csi', 'urn:xmpp:csi:0'), 'client state indication works over BOSH');
  await bosh.until((el) => el.name === 'iq',
    `<iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
  const failed = await bosh.until(isSm('failed'), `<enable xmlns='${NS_SM}' resume='true'/>`);
  assert.ok(failed.getChild('feature-not-implemented'), String(failed));
});
