// The input shaper: a client flooding the server is slowed to xmpp.c2s.shaper.rate after its
// burst, losing nothing, while other clients are served as usual; an administrator is not
// shaped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const RATE = 100_000;
const BURST = 20_000;
const FLOOD_BYTES = 300_000;

let server: TestServer;
before(async () => {
  server = await startTestServer({ properties: {
    'xmpp.c2s.shaper.rate': String(RATE),
    'xmpp.c2s.shaper.burst': String(BURST),
    'admin.jids': 'boss@localhost',
  } });
  for (const u of ['alice', 'bob', 'flooder', 'boss']) await server.addUser(u, 'secret');
});
after(async () => {
  await server?.stop();
});

/** Sends FLOOD_BYTES of pings in one write; resolves with the milliseconds until the last answer. */
async function flood(c: RawClient): Promise<number> {
  const one = (i: number): string => `<iq type='get' to='localhost' id='f${i}'><ping xmlns='urn:xmpp:ping'/></iq>`;
  let text = '';
  let n = 0;
  while (text.length < FLOOD_BYTES) text += one(n++);
  const last = c.expect((e) => e.attrs.id === `f${n - 1}`, 30_000);
  const start = Date.now();
  c.send(text);
  await last;
  const answered = c.inbox.filter((e) => e.name === 'iq' && e.attrs.id?.startsWith('f')).length + 1;
  assert.equal(answered, n, 'every ping answered: shaping loses nothing');
  return Date.now() - start;
}

test('a flood is slowed to the rate after the burst, and a bystander pair is served meanwhile', async () => {
  const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'a' });
  const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'b' });
  const flooder = await RawClient.login(server.c2sPort, 'flooder', 'secret');
  try {
    const flooding = flood(flooder);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = Date.now();
      alice.send(`<message to='bob@localhost/b' type='chat'><body>during ${i}</body></message>`);
      await bob.expect((e) => e.name === 'message' && e.getChildText('body') === `during ${i}`);
      latencies.push(Date.now() - start);
      await new Promise((r) => setTimeout(r, 200));
    }
    const took = await flooding;
    const least = ((FLOOD_BYTES - BURST) / RATE) * 1000;
    assert.ok(took >= least * 0.9, `the flood took ${took} ms; at ${RATE} B/s after a ${BURST}-byte burst it needs at least ${least} ms`);
    assert.ok(Math.max(...latencies) < 1_000, `bystander messages took ${latencies.join(', ')} ms`);
  } finally {
    for (const c of [alice, bob, flooder]) await c.close();
  }
});

test('an administrator (admin.jids) is not shaped', async () => {
  const boss = await RawClient.login(server.c2sPort, 'boss', 'secret');
  try {
    const took = await flood(boss);
    const least = ((FLOOD_BYTES - BURST) / RATE) * 1000;
    assert.ok(took < least / 2, `an administrator's flood took ${took} ms, as if shaped (${least} ms)`);
  } finally {
    await boss.close();
  }
});
