// The cluster link's frame format: what is encoded comes back the same, however the bytes are
// split, and anything else is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressedCopy, addressedTemplate, parseXml, xml } from 'xmppd';
import {
  encodeAck, encodeDeliver, encodeDeliverEach, encodeEachAck, encodeFrame, encodeJson, FrameCounts, FrameError, FrameReader, type LinkMessage,
} from './link-frames.ts';

const STANZA = '<message to="juliet@example.com/balcony" type="chat"><body>Grüße, ☃ 𝄞 &amp; &lt;tags&gt;</body></message>';
const TAIL = ' type="headline"><body>☃</body></message>';
const MESSAGES: LinkMessage[] = [
  { t: 'hello', node: 'node-a', nonce: 'n1' },
  { t: 'welcome', node: 'node-b', nonce: 'n2', mac: 'm' },
  { t: 'proof', mac: 'm2' },
  { t: 'deliver', id: 1, to: 'juliet@example.com/balcony', xml: STANZA, bytes: Buffer.byteLength(STANZA) },
  { t: 'deliver', id: 0xffffffff, to: 'ромео@example.com/ресурс', xml: '<iq type="get" id="1"/>', bytes: 23 },
  { t: 'event', id: 7, name: 'remote/roster-changed', payload: { username: 'juliet', groups: ['Friends', 'Ĉiuj'] } },
  { t: 'ack', id: 1, ok: true },
  { t: 'ack', id: 42, ok: false },
  { t: 'deliver-each', id: 9, to: ['juliet@example.com/balcony', 'ромео@example.com/ресурс'], head: '<message', tail: TAIL, bytes: Buffer.byteLength(`<message${TAIL}`) },
  { t: 'each-ack', id: 9, taken: [true, false] },
  { t: 'each-ack', id: 10, taken: [false, true, true, false, true, false, false, true, true] },
];
const ALL = Buffer.concat(MESSAGES.map(encodeFrame));

test('every kind of frame comes back as it was encoded', () => {
  assert.deepEqual(new FrameReader(64 * 1024).push(ALL), MESSAGES);
});

test('a deliver frame carries the stanza as its UTF-8 bytes, not escaped', () => {
  const frame = encodeDeliver(5, 'juliet@example.com/balcony', STANZA);
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  assert.equal(frame[4], 0x02);
  assert.ok(frame.subarray(frame.length - Buffer.byteLength(STANZA)).equals(Buffer.from(STANZA, 'utf8')), 'the stanza bytes end the frame as they are');
  assert.equal(encodeAck(3, true).length, 10);
});

test('a deliver-each frame carries the template once for every recipient, each of whom gets a copy with its own to', () => {
  const stanza = xml('message', { xmlns: 'jabber:client', type: 'headline', from: 'owner@example.com', id: 'n1' },
    xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, xml('items', { node: 'urn:xmpp:tune' }, 'Grüße & ☃')));
  const template = addressedTemplate(stanza);
  const recipients = Array.from({ length: 50 }, (_, i) => `user${i}@example.com/res'${i}`);
  const frame = encodeDeliverEach(77, recipients, template.head, template.tail);
  const text = template.head + template.tail;
  assert.equal(frame.indexOf(Buffer.from(template.tail)), frame.lastIndexOf(Buffer.from(template.tail)), 'the stanza is in the frame once');
  const [m] = new FrameReader(64 * 1024).push(frame);
  assert.ok(m && m.t === 'deliver-each');
  assert.equal(m.id, 77);
  assert.deepEqual(m.to, recipients);
  assert.equal(m.bytes, Buffer.byteLength(text));
  for (const to of m.to) {
    const copy = parseXml(addressedCopy(m, to));
    assert.equal(copy.attrs.to, to);
    assert.equal(copy.attrs.from, 'owner@example.com');
    assert.equal(copy.getChild('event')?.getChild('items')?.getText(), 'Grüße & ☃');
  }
  const taken = recipients.map((_, i) => i % 3 === 0);
  const [ack] = new FrameReader(1024).push(encodeEachAck(77, taken));
  assert.deepEqual(ack, { t: 'each-ack', id: 77, taken });
  assert.throws(() => encodeDeliverEach(1, [], '<message', '/>'), FrameError, 'no recipients');
  assert.throws(() => encodeDeliverEach(1, ['a'.repeat(70_000)], '<message', '/>'), FrameError, 'a JID too long');
});

test('frame counts name each type written', () => {
  const counts = new FrameCounts();
  for (const f of [encodeDeliver(1, 'a@b/c', '<message/>'), encodeDeliverEach(2, ['a@b/c'], '<message', '/>'), encodeDeliverEach(3, ['a@b/c'], '<message', '/>'), encodeAck(1, true)]) counts.count(f);
  assert.deepEqual(counts.snapshot(), { deliver: 1, 'deliver-each': 2, ack: 1 });
});

test('frames split at every byte, and fed a byte at a time, come back whole and in order', () => {
  for (let cut = 0; cut <= ALL.length; cut++) {
    const reader = new FrameReader(64 * 1024);
    const got = [...reader.push(ALL.subarray(0, cut)), ...reader.push(ALL.subarray(cut))];
    assert.deepEqual(got, MESSAGES, `split at byte ${cut}`);
  }
  const reader = new FrameReader(64 * 1024);
  const got: LinkMessage[] = [];
  for (let i = 0; i < ALL.length; i++) got.push(...reader.push(ALL.subarray(i, i + 1)));
  assert.deepEqual(got, MESSAGES);
});

test('a frame over the limit is refused from its length alone', () => {
  const big = encodeDeliver(1, 'juliet@example.com/balcony', `<message><body>${'x'.repeat(2000)}</body></message>`);
  assert.throws(() => new FrameReader(1024).push(big.subarray(0, 4)), FrameError);
  assert.equal(new FrameReader(big.length - 4).push(big).length, 1, 'exactly at the limit is accepted');
  assert.throws(() => new FrameReader(big.length - 5).push(big), /over the limit/);
});

test('garbage is refused', () => {
  const frame = (type: number, body: Buffer | string): Buffer => {
    const b = Buffer.from(body);
    const f = Buffer.alloc(5 + b.length);
    f.writeUInt32BE(1 + b.length, 0);
    f[4] = type;
    b.copy(f, 5);
    return f;
  };
  const bad: [string, Buffer][] = [
    ['HTTP', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['an empty frame', Buffer.from([0, 0, 0, 0])],
    ['an unknown type', frame(0x09, 'x')],
    ['JSON that is not JSON', frame(0x01, '{"t":')],
    ['JSON that is not a link message', frame(0x01, '[1,2]')],
    ['a JSON deliver (the old format)', frame(0x01, JSON.stringify({ t: 'deliver', id: 1, to: 'a@b/c', xml: '<message/>' }))],
    ['a JSON ack', frame(0x01, JSON.stringify({ t: 'ack', id: 1, ok: true }))],
    ['a deliver too short for its id', frame(0x02, Buffer.from([0, 0, 1]))],
    ['a deliver whose JID runs past the frame', frame(0x02, Buffer.from([0, 0, 0, 1, 0, 50, 0x61]))],
    ['an ack of the wrong length', frame(0x03, Buffer.from([0, 0, 0, 1, 1, 0]))],
    ['an ack neither 0 nor 1', frame(0x03, Buffer.from([0, 0, 0, 1, 7]))],
    ['a deliver-each too short for its header', frame(0x04, Buffer.from([0, 0, 0, 1, 0, 0]))],
    ['a deliver-each without recipients', frame(0x04, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3c]))],
    ['a deliver-each whose recipient runs past the frame', frame(0x04, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 9, 0x61]))],
    ['a deliver-each whose template head runs past the frame', frame(0x04, Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0, 1, 0, 1, 0x61, 0x3c]))],
    ['an each-ack whose bits do not match its count', frame(0x05, Buffer.from([0, 0, 0, 1, 0, 9, 0xff]))],
  ];
  for (const [what, bytes] of bad) assert.throws(() => new FrameReader(1024 * 1024 * 1024).push(bytes), FrameError, what);
  assert.throws(() => encodeDeliver(1, 'a'.repeat(70_000), '<message/>'), FrameError, 'a JID too long for its 16-bit length');
  assert.ok(encodeJson({ t: 'proof', mac: 'x' })[4] === 0x01);
});
