// XEP-0156 against a real server process: /.well-known/host-meta (XRD) and host-meta.json
// name the BOSH and WebSocket endpoints, built from the request's Host and scheme (the
// scheme from X-Forwarded-Proto only when a trusted proxy sends it) or from
// xmpp.http.public-url, readable by any web page (CORS); the URLs they name work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { parseXml } from '../../server/xml/stream-parser.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';
import { WsClient } from './ws-client.ts';

const BOSH = 'urn:xmpp:alt-connections:xbosh';
const WEBSOCKET = 'urn:xmpp:alt-connections:websocket';

let server: TestServer;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with headers fetch() would not let a test set (Host). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.httpPort, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The BOSH link of the JSON document alone: what a wait for a property change polls, since
 * the change may land between the two reads of links(), which would then disagree.
 */
async function boshLink(headers: Record<string, string>): Promise<string | undefined> {
  const json = await get('/.well-known/host-meta.json', headers);
  return (JSON.parse(json.body) as { links: { rel: string; href: string }[] }).links.find((l) => l.rel === BOSH)?.href;
}

/** Both documents, read with the same headers; they must name the same links. */
async function links(headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const xrd = await get('/.well-known/host-meta', headers);
  assert.equal(xrd.status, 200, xrd.body);
  assert.match(xrd.headers['content-type']!, /^application\/xrd\+xml/);
  assert.equal(xrd.headers['access-control-allow-origin'], '*');
  const doc = parseXml(xrd.body);
  assert.equal(doc.name, 'XRD');
  assert.equal(doc.attrs.xmlns, 'http://docs.oasis-open.org/ns/xri/xrd-1.0');
  const fromXml = Object.fromEntries(doc.getChildren('Link').map((l) => [l.attrs.rel!, l.attrs.href!]));

  const json = await get('/.well-known/host-meta.json', headers);
  assert.equal(json.status, 200, json.body);
  assert.match(json.headers['content-type']!, /^application\/json/);
  assert.equal(json.headers['access-control-allow-origin'], '*');
  const parsed = JSON.parse(json.body) as { links: { rel: string; href: string }[] };
  const fromJson = Object.fromEntries(parsed.links.map((l) => [l.rel, l.href]));
  assert.deepEqual(fromJson, fromXml, 'both formats name the same endpoints');
  return fromXml;
}

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

test('both documents name BOSH and WebSocket at the host the request used, and those work', async () => {
  const here = `127.0.0.1:${server.httpPort}`;
  const found = await links({ host: here });
  assert.deepEqual(found, { [BOSH]: `http://${here}/http-bind`, [WEBSOCKET]: `ws://${here}/ws` });

  // The BOSH endpoint named answers a session request, and the WebSocket one opens a stream.
  const bosh = await fetch(found[BOSH]!, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: `<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' to='localhost' wait='5' hold='1' ver='1.11' xmpp:version='1.0'/>`,
  });
  assert.equal(bosh.status, 200);
  assert.ok(parseXml(await bosh.text()).attrs.sid, 'a BOSH session was created');
  const ws = await WsClient.connect(server.httpPort, { path: new URL(found[WEBSOCKET]!).pathname });
  try {
    ws.send(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`);
    await ws.expect((el) => el.name === 'open');
  } finally {
    ws.ws.terminate();
  }

  const named = await links({ host: 'chat.example.com' });
  assert.deepEqual(named, { [BOSH]: 'http://chat.example.com/http-bind', [WEBSOCKET]: 'ws://chat.example.com/ws' });
});

test('any page may read them: a preflight is allowed for every origin', async () => {
  const answer = await get('/.well-known/host-meta.json', { host: 'chat.example.com', origin: 'https://anywhere.example', 'access-control-request-method': 'GET' }, 'OPTIONS');
  assert.equal(answer.status, 204);
  assert.equal(answer.headers['access-control-allow-origin'], '*');
  assert.match(answer.headers['access-control-allow-methods']!, /GET/);
});

test('X-Forwarded-Proto counts only from a trusted proxy', async () => {
  const behind = { host: 'chat.example.com', 'x-forwarded-proto': 'https' };
  assert.equal((await links(behind))[WEBSOCKET], 'ws://chat.example.com/ws', 'the test is not trusted yet');
  await server.setProperty('xmpp.http.trusted-proxies', '127.0.0.1');
  await waitFor(async () => (await boshLink(behind)) === 'https://chat.example.com/http-bind', 10_000, 'the trusted proxy\'s scheme');
  assert.equal((await links(behind))[WEBSOCKET], 'wss://chat.example.com/ws');
  assert.equal((await links({ ...behind, 'x-forwarded-proto': 'gopher' }))[BOSH], 'http://chat.example.com/http-bind', 'an unknown scheme is ignored');
});

test('xmpp.http.public-url decides when set, path included; a value that is no http(s) URL is ignored', async () => {
  await server.setProperty('xmpp.http.public-url', 'https://example.com/xmpp/');
  await waitFor(async () => (await boshLink({ host: 'ignored.example' })) === 'https://example.com/xmpp/http-bind', 10_000, 'the public URL');
  assert.equal((await links({ host: 'ignored.example' }))[WEBSOCKET], 'wss://example.com/xmpp/ws');
  await server.setProperty('xmpp.http.public-url', 'ftp://example.com/');
  await waitFor(async () => (await boshLink({ host: 'chat.example.com' })) === 'http://chat.example.com/http-bind', 10_000, 'the invalid URL to be ignored');
  assert.match(server.logs(), /ignoring xmpp\.http\.public-url/);
});

test('without a usable Host (and no public URL) the answer is 400, not a document naming garbage', async () => {
  await server.setProperty('xmpp.http.public-url', '');
  await waitFor(async () => (await get('/.well-known/host-meta', { host: 'bad host"><x' })).status === 400, 10_000, 'a 400 for a bad Host');
  const answer = await get('/.well-known/host-meta.json', { host: 'a/b' });
  assert.equal(answer.status, 400);
  assert.doesNotMatch(answer.body, /a\/b/);
});

test('nothing above made the server log an error', () => {
  assert.doesNotMatch(server.logs(), / ERROR /);
});
