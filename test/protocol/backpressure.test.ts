// A client that logs in and then never reads, while another floods it with messages, against
// a real server process: the server stops queueing for it at xmpp.c2s.send-queue.max-bytes
// and closes it, its memory stays bounded (read from /status), and a bystander pair keeps
// exchanging messages without losing one. Over TCP, direct TLS, WebSocket and BOSH (a
// session that stops polling).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BoshClient } from '../http/bosh-client.ts';
import { WsClient } from '../http/ws-client.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const MiB = 1024 * 1024;
/** What the flooder sends at the non-reader over TCP. */
const TCP_FLOOD_BYTES = 200 * MiB;
/** Over TLS and WebSocket, less: the same code, each its own way of counting what waits. */
const OTHER_FLOOD_BYTES = 100 * MiB;
/**
 * Above the server's resident memory before the flood. Without the cap the server would hold
 * most of the flood for the non-reader; with it, 1 MiB (the default cap) plus what parsing
 * the flood costs in passing.
 */
const RSS_GROWTH_BOUND = 80 * MiB;

interface Status { sessions: number; memory: { rssBytes: number; peakRssBytes: number } }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Whether a connection closes within 15 s. */
const closesSoon = (closed: Promise<unknown>): Promise<boolean> =>
  Promise.race([closed.then(() => true), sleep(15_000).then(() => false)]);

describe('a client that does not read while it is flooded', () => {
  let server: TestServer;
  const status = async (): Promise<Status> => (await fetch(`http://127.0.0.1:${server.httpPort}/status`)).json() as Promise<Status>;

  // A server per test, so that each starts from its own resident memory.
  beforeEach(async () => {
    // The flooder must not be slowed by the input shaper (test/protocol/shaper.test.ts).
    server = await startTestServer({ properties: { 'xmpp.c2s.shaper.rate': '0' } });
    for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
  });
  afterEach(() => server?.stop());

  /**
   * One flooder and one bystander pair; alice@localhost/stuck, over `transport`, does not read.
   * `victimGone` says, after the flood, whether the server closed her connection.
   */
  async function flood(transport: string, bytes: number, victimGone: () => Promise<boolean>): Promise<void> {
    const victim = 'alice@localhost/stuck';
    const flooder = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'flood' });
    const carol = await RawClient.login(server.c2sPort, 'carol', 'secret', { resource: 'by' });
    const dave = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'by' });
    const baseline = (await status()).memory.rssBytes;

    // Headlines: once the victim is gone they are dropped rather than stored or bounced.
    const stanza = `<message type='headline' to='${victim}'><body>${'x'.repeat(8 * 1024)}</body></message>`;
    const batch = stanza.repeat(16);
    let sent = 0;
    let rss = baseline;
    const monitor = setInterval(() => void status().then((s) => { rss = Math.max(rss, s.memory.rssBytes); }, () => {}), 200);
    let flooded = false;
    const flooding = (async () => {
      while (sent < bytes) {
        await flooder.sendPaced(batch);
        sent += batch.length;
      }
      flooded = true;
    })();

    // The bystanders chat in lockstep all along: every message must arrive, in order.
    let exchanged = 0;
    const chat = (async () => {
      for (let i = 0; i < 100 || !flooded; i++) {
        const toDave = dave.expect((el) => el.name === 'message' && el.attrs.id === `c${i}`, 20_000);
        carol.send(`<message type='chat' to='dave@localhost/by' id='c${i}'><body>${i}</body></message>`);
        assert.equal((await toDave).getChildText('body'), String(i));
        const toCarol = carol.expect((el) => el.name === 'message' && el.attrs.id === `d${i}`, 20_000);
        dave.send(`<message type='chat' to='carol@localhost/by' id='d${i}'><body>${i}</body></message>`);
        assert.equal((await toCarol).getChildText('body'), String(i));
        exchanged++;
        await sleep(20);
      }
    })();

    try {
      await Promise.all([flooding, chat]);
      // The flood is through the server once the flooder's next IQ is answered.
      const pong = await flooder.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", 60_000);
      assert.equal(pong.attrs.type, 'result');
    } finally {
      clearInterval(monitor);
    }
    const after = await status();
    rss = Math.max(rss, after.memory.rssBytes);
    assert.ok(exchanged >= 100, 'the bystanders exchanged every message');
    const growth = `resident memory grew by ${Math.round((rss - baseline) / MiB)} MiB (from ${Math.round(baseline / MiB)} MiB) for ${Math.round(sent / MiB)} MiB sent`;
    console.log(growth);
    assert.ok(rss - baseline < RSS_GROWTH_BOUND, growth);
    assert.ok(await victimGone(), 'the server closed the client that does not read');
    assert.match(server.logs(), new RegExp(`closing a stream whose peer does not read what is sent to it transport=${transport} `));
    let sessions = after.sessions;
    for (let i = 0; i < 50 && sessions !== 3; i++) {
      await sleep(100);
      sessions = (await status()).sessions;
    }
    assert.equal(sessions, 3, 'the victim\'s session ended; flooder and bystanders are still connected');
    await Promise.all([flooder.close(), carol.close(), dave.close()]);
  }

  test(`TCP: ${TCP_FLOOD_BYTES / MiB} MiB at a client that never reads`, async () => {
    const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'stuck' });
    alice.reading(false);
    await flood('tcp', TCP_FLOOD_BYTES, async () => {
      // Reading again, it gets what was in flight and then the end of the connection.
      alice.reading(true);
      return closesSoon(alice.closed);
    });
  });

  test(`direct TLS: ${OTHER_FLOOD_BYTES / MiB} MiB at a client that never reads`, async () => {
    const alice = await RawClient.connect(server.c2sTlsPort, { directTls: true });
    await alice.open();
    assert.equal((await alice.authPlain('alice', 'secret')).name, 'success');
    await alice.open();
    await alice.bind('stuck');
    alice.reading(false);
    await flood('tcp', OTHER_FLOOD_BYTES, async () => {
      alice.reading(true);
      return closesSoon(alice.closed);
    });
  });

  test(`WebSocket: ${OTHER_FLOOD_BYTES / MiB} MiB at a client that never reads`, async () => {
    const alice = await WsClient.connect(server.httpPort);
    await alice.login('alice', 'secret', 'stuck');
    alice.ws.pause();
    await flood('websocket', OTHER_FLOOD_BYTES, async () => {
      alice.ws.resume();
      return closesSoon(alice.closed);
    });
  });

  test(`BOSH: ${OTHER_FLOOD_BYTES / MiB} MiB at a session that stops polling`, async () => {
    const alice = await BoshClient.create(server.httpPort);
    await alice.login('alice', 'secret', 'stuck');
    await flood('bosh', OTHER_FLOOD_BYTES, async () => {
      // Polling again: the stream error, if the session still keeps its last response
      // (10 s after it ended), else no session at all.
      const res = await alice.send('');
      if (res.body.attrs.type !== 'terminate') return false;
      if (res.body.attrs.condition === 'item-not-found') return true;
      assert.equal(res.body.attrs.condition, 'remote-stream-error', res.text.slice(0, 200));
      return res.body.getChild('error', 'http://etherx.jabber.org/streams')?.getChild('resource-constraint') !== undefined;
    });
  });
});
