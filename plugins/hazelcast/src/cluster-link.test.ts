// Cluster links over real sockets on 127.0.0.1: the handshake, delivery with acknowledgement,
// and refusal of peers without the cluster secret or speaking something else.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Logger } from '../../../server/log.ts';
import { LinkPool, LinkServer, type LinkOptions } from './cluster-link.ts';
import { encodeFrame } from './link-frames.ts';

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
  await closed(encodeFrame({ t: 'deliver', id: 1, to: 'juliet@example.com/balcony', xml: '<message/>' }));
  assert.equal(received.length, before, 'nothing was delivered');
});

test('a node that is down makes delivery fail at once, and the next send reconnects', async () => {
  const spare = new LinkServer(options('node-c'), { deliver: () => true, event: () => true });
  const a = await spare.listen('127.0.0.1', 0);
  const pool = new LinkPool(options('node-a'));
  try {
    assert.equal(await pool.send('node-c', `127.0.0.1:${a.port}`, 'x@example.com/r', '<message/>'), true);
    await spare.close();
    assert.equal(await pool.send('node-c', `127.0.0.1:${a.port}`, 'x@example.com/r', '<message/>'), false);
    const again = new LinkServer(options('node-c'), { deliver: () => true, event: () => true });
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
