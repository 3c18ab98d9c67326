// Message archive queries (XEP-0313) from a real client library (xmpp.js, @xmpp/client): a
// chat between two accounts, then each side reads its archive with an IQ and the result
// messages xmpp.js hands up before the IQ's answer, paging with RSM.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { client, xml, type Client } from '@xmpp/client';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type Stanza = ReturnType<typeof xml>;
const NS_MAM = 'urn:xmpp:mam:2';
const NS_RSM = 'http://jabber.org/protocol/rsm';

let server: TestServer;
before(async () => {
  server = await startTestServer({ dialect: 'mysql' });
  await server.addUser('romeo', 'secret');
  await server.addUser('juliet', 'secret');
});
after(() => server.stop());

async function connect(username: string): Promise<{ xmpp: Client; stanzas: Stanza[] }> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: 'localhost', resource: 'lib', username, password: 'secret' });
  xmpp.on('error', () => {});
  const stanzas: Stanza[] = [];
  xmpp.on('stanza', (s: Stanza) => stanzas.push(s));
  await xmpp.start();
  await xmpp.send(xml('presence'));
  return { xmpp, stanzas };
}

/** Sends a query and returns the results that arrived before the answer, with its <fin/>. */
async function query(c: { xmpp: Client; stanzas: Stanza[] }, queryid: string, set: Stanza[]): Promise<{ bodies: string[]; ids: string[]; fin: Stanza }> {
  // request() resolves with the whole result IQ: set() would look for a <query/> in it.
  const iq = await c.xmpp.iqCaller.request(xml('iq', { type: 'set', id: queryid }, xml('query', { xmlns: NS_MAM, queryid }, xml('set', { xmlns: NS_RSM }, ...set))));
  const answer = iq.getChild('fin', NS_MAM)!;
  const results = c.stanzas.filter((s) => s.is('message') && s.getChild('result', NS_MAM)?.attrs.queryid === queryid);
  return {
    bodies: results.map((m) => m.getChild('result', NS_MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!.getChildText('body')!),
    ids: results.map((m) => m.getChild('result', NS_MAM)!.attrs.id as string),
    fin: answer,
  };
}

test('xmpp.js reads both sides of a chat from the archive, page by page', async () => {
  const romeo = await connect('romeo');
  const juliet = await connect('juliet');
  for (let i = 1; i <= 3; i++) {
    await romeo.xmpp.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, `line ${i}`)));
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('juliet did not get three messages')), 5_000);
    const check = setInterval(() => {
      if (juliet.stanzas.filter((s) => s.is('message') && s.getChild('body')).length === 3) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 20);
  });
  const live = juliet.stanzas.filter((s) => s.is('message') && s.getChild('body')).map((s) => s.getChild('stanza-id', 'urn:xmpp:sid:0')!.attrs.id as string);

  const first = await query(juliet, 'q1', [xml('max', {}, '2')]);
  assert.deepEqual(first.bodies, ['line 1', 'line 2']);
  assert.deepEqual(first.ids, live.slice(0, 2), 'the ids xmpp.js saw live');
  assert.equal(first.fin.attrs.complete, undefined);
  const set = first.fin.getChild('set', NS_RSM)!;
  assert.equal(set.getChildText('count'), '3');
  const rest = await query(juliet, 'q2', [xml('max', {}, '2'), xml('after', {}, set.getChildText('last')!)]);
  assert.deepEqual(rest.bodies, ['line 3']);
  assert.equal(rest.fin.attrs.complete, 'true');

  const sent = await query(romeo, 'q3', [xml('max', {}, '10'), xml('before')]);
  assert.deepEqual(sent.bodies, ['line 1', 'line 2', 'line 3']);
  await romeo.xmpp.stop();
  await juliet.xmpp.stop();
});
