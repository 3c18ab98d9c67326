// Cluster links over real sockets on 127.0.0.1: the handshake, delivery with acknowledgement,
// and refusal of peers without the cluster secret or speaking something else.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { Logger } from '../../../server/log.ts';
import { LinkPool, LinkServer, type LinkOptions } from './cluster-link.ts';
import { addressedCopy, addressedTemplate, xml } from 'xmppd';
import { encodeAck, encodeDeliver, encodeJson, FrameCounts, FrameReader } from './link-frames.ts';

const log = new Logger('test');
const secret = randomBytes(32);
const options = (nodeId: string, s = secret): LinkOptions => ({ nodeId, secret: s, maxFrameBytes: 64 * 1024, timeoutMs: () => 2_000, log });

const received: [string, string][] = [];
const events: [string, unknown][] = [];
const server = new LinkServer(options('node-b'), {
  deliver(to, xml) {
    if (to.startsWith('nobody@')) return false;
    received.push([to, xml]);
    return true;
  },
  deliverEach(to, head, tail) {
    return to.map((jid) => {
      if (jid.startsWith('nobody@')) return false;
      received.push([jid, addressedCopy({ head, tail }, jid)]);
      return true;
    });
  },
  event(name, payload) {
    events.push([name, payload]);
    return name.startsWith('remote/');
  },
});
const address = await server.listen('127.0.0.1', 0);
const target = `127.0.0.1:${address.port}`;
after(() => server.close());

test('a node with the secret delivers stanzas and learns whether a session took each', async () => {
  const pool = new LinkPool(options('node-a'));
  try {
    assert.equal(await pool.send('node-b', target, 'juliet@example.com/balcony', '<message>one</message>'), true);
    assert.equal(await pool.send('node-b', target, 'nobody@example.com/x', '<message>two</message>'), false);
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.send('node-b', target, 'juliet@example.com/balcony', `<message>${i}</message>`)));
    assert.ok(many.every(Boolean));
    assert.deepEqual(received.slice(0, 1), [['juliet@example.com/balcony', '<message>one</message>']]);
    assert.equal(received.length, 51, 'one link carried all of them, in order');
    assert.equal(received.at(-1)![1], '<message>49</message>');
  } finally {
    pool.close();
  }
});

test('one stanza for many sessions crosses in one frame; each copy has its own to, and those not taken come back', async () => {
  const counts = new FrameCounts();
  const pool = new LinkPool({ ...options('node-a'), counts });
  try {
    received.length = 0;
    const template = addressedTemplate(xml('message', { xmlns: 'jabber:client', type: 'headline', from: 'o@example.com' }, xml('body', {}, 'x')));
    const to = [...Array.from({ length: 30 }, (_, i) => `u${i}@example.com/r`), 'nobody@example.com/r'];
    assert.deepEqual(await pool.sendEach('node-b', target, to, template.head, template.tail), ['nobody@example.com/r']);
    assert.deepEqual(counts.snapshot(), { 'deliver-each': 1 });
    assert.deepEqual(received.map(([jid]) => jid), to.slice(0, 30));
    for (const [jid, text] of received) assert.equal(text, `<message to="${jid}" xmlns="jabber:client" type="headline" from="o@example.com"><body>x</body></message>`);
  } finally {
    pool.close();
    received.length = 0;
  }
  // Recipients that would not fit one frame go in as few as fit.
  const small = new FrameCounts();
  const tight = new LinkPool({ ...options('node-a'), maxFrameBytes: 400, counts: small });
  try {
    const to = Array.from({ length: 40 }, (_, i) => `user${i}@example.com/resource`);
    assert.deepEqual(await tight.sendEach('node-b', target, to, '<message', '/>'), []);
    assert.deepEqual(received.map(([jid]) => jid), to);
    assert.equal(small.snapshot()['deliver-each'], Math.ceil(to.length / Math.floor((400 - 11 - 10) / (2 + to[0]!.length))));
  } finally {
    tight.close();
    received.length = 0;
  }
});

test('events reach the other node with their data, and its answer comes back', async () => {
  const pool = new LinkPool(options('node-a'));
  try {
    assert.equal(await pool.sendEvent('node-b', target, 'remote/roster-changed', { username: 'juliet', groups: ['Friends'] }), true);
    assert.equal(await pool.sendEvent('node-b', target, 'session/closed', {}), false);
    assert.deepEqual(events, [['remote/roster-changed', { username: 'juliet', groups: ['Friends'] }], ['session/closed', {}]]);
  } finally {
    pool.close();
  }
});

test('a node with another secret is refused, and so is a node that is not the one expected', async () => {
  const stranger = new LinkPool(options('node-x', randomBytes(32)));
  const confused = new LinkPool(options('node-a'));
  try {
    assert.equal(await stranger.send('node-b', target, 'juliet@example.com/balcony', '<message/>'), false);
    assert.equal(await confused.send('node-c', target, 'juliet@example.com/balcony', '<message/>'), false, 'node-b answered where node-c was expected');
  } finally {
    stranger.close();
    confused.close();
  }
});

test('garbage, oversized frames and deliveries before the handshake close the connection', async () => {
  const before = received.length;
  const closed = (payload: Buffer): Promise<void> => new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: address.port }, () => s.write(payload));
    s.on('close', () => resolve());
    s.on('error', () => undefined);
    setTimeout(() => reject(new Error('still open')), 3_000).unref();
  });
  await closed(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(10 * 1024 * 1024);
  await closed(huge);
  await closed(encodeDeliver(1, 'juliet@example.com/balcony', '<message/>'));
  assert.equal(received.length, before, 'nothing was delivered');
});

test('a node that is down makes delivery fail at once, and the next send reconnects', async () => {
  const spare = new LinkServer(options('node-c'), { deliver: () => true, deliverEach: (to) => to.map(() => true), event: () => true });
  const a = await spare.listen('127.0.0.1', 0);
  const pool = new LinkPool(options('node-a'));
  try {
    assert.equal(await pool.send('node-c', `127.0.0.1:${a.port}`, 'x@example.com/r', '<message/>'), true);
    await spare.close();
    assert.equal(await pool.send('node-c', `127.0.0.1:${a.port}`, 'x@example.com/r', '<message/>'), false);
    const again = new LinkServer(options('node-c'), { deliver: () => true, deliverEach: (to) => to.map(() => true), event: () => true });
    const b = await again.listen('127.0.0.1', a.port);
    try {
      assert.equal(await pool.send('node-c', `127.0.0.1:${b.port}`, 'x@example.com/r', '<message/>'), true);
    } finally {
      await again.close();
    }
  } finally {
    pool.close();
  }
});

test('a stanza with non-ASCII text arrives as it was sent; one over the frame limit fails alone', async () => {
  const pool = new LinkPool(options('node-a'));
  try {
    const text = '<message><body>Grüße ☃ 𝄞 &amp; Жанна</body></message>';
    assert.equal(await pool.send('node-b', target, 'juliet@example.com/balcony', text), true);
    assert.deepEqual(received.at(-1), ['juliet@example.com/balcony', text]);
    const tooBig = `<message><body>${'x'.repeat(70 * 1024)}</body></message>`;
    assert.equal(await pool.send('node-b', target, 'juliet@example.com/balcony', tooBig), false);
    assert.equal(await pool.send('node-b', target, 'juliet@example.com/balcony', '<message>after</message>'), true, 'the link is still up');
  } finally {
    pool.close();
  }
});

test('a peer node that stops reading has its link closed at the bound, and the waiting deliveries fail at once', async () => {
  // A peer that completes the handshake, then never reads again.
  const hmac = (...parts: string[]): string => createHmac('sha256', secret).update(parts.join('\0')).digest('base64');
  let peerSocket: net.Socket | null = null;
  const stuck = net.createServer((socket) => {
    peerSocket = socket;
    const reader = new FrameReader(1 << 20);
    let hello: { node: string; nonce: string } | null = null;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const m of reader.push(chunk)) {
        if (m.t === 'hello') {
          hello = m;
          socket.write(encodeJson({ t: 'welcome', node: 'node-s', nonce: 'ours', mac: hmac('welcome', 'node-s', m.nonce, 'ours') }));
        } else if (m.t === 'proof' && hello) {
          socket.pause();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
  const port = (stuck.address() as net.AddressInfo).port;
  const pool = new LinkPool({ ...options('node-a'), timeoutMs: () => 60_000, maxQueuedBytes: 256 * 1024 });
  try {
    const started = Date.now();
    const results: Promise<boolean>[] = [];
    const stanza = `<message><body>${'y'.repeat(32 * 1024)}</body></message>`;
    let closed = false;
    for (let i = 0; i < 2_000 && !closed; i++) {
      const p = pool.send('node-s', `127.0.0.1:${port}`, 'x@example.com/r', stanza);
      results.push(p);
      void p.then(() => { closed = true; });
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(closed, 'the link gave up before 2,000 frames of 32 KiB (64 MiB)');
    assert.deepEqual(new Set(await Promise.all(results)), new Set([false]), 'every waiting delivery failed');
    assert.ok(Date.now() - started < 20_000, 'at the bound, not at the acknowledgement timeout');
  } finally {
    pool.close();
    (peerSocket as net.Socket | null)?.destroy();
    await new Promise((r) => stuck.close(r));
  }
});

test('a peer of the previous link protocol (a rolling upgrade) gets one deliver frame per recipient instead of deliver-each', async () => {
  // A node whose welcome names no protocol, and which knows deliver and ack only.
  const hmac = (...parts: string[]): string => createHmac('sha256', secret).update(parts.join('\0')).digest('base64');
  const seen: string[] = [];
  const old = net.createServer((socket) => {
    const reader = new FrameReader(1 << 20);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const m of reader.push(chunk)) {
        seen.push(m.t);
        if (m.t === 'hello') socket.write(encodeJson({ t: 'welcome', node: 'node-o', nonce: 'ours', mac: hmac('welcome', 'node-o', m.nonce, 'ours') }));
        else if (m.t === 'deliver') socket.write(encodeAck(m.id, !m.to.startsWith('nobody@')));
        else if (m.t !== 'proof') socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
  const port = (old.address() as net.AddressInfo).port;
  const pool = new LinkPool(options('node-a'));
  try {
    const template = addressedTemplate(xml('message', { xmlns: 'jabber:client', type: 'headline' }, xml('body', {}, 'x')));
    const missed = await pool.sendEach('node-o', `127.0.0.1:${port}`, ['a@example.com/1', 'nobody@example.com/2', 'b@example.com/3'], template.head, template.tail);
    assert.deepEqual(missed, ['nobody@example.com/2']);
    assert.deepEqual(seen, ['hello', 'proof', 'deliver', 'deliver', 'deliver'], 'no frame the old node does not know');
  } finally {
    pool.close();
    await new Promise((r) => old.close(r));
  }
});
