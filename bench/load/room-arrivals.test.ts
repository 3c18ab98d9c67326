import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomArrivals, roomBody } from './room-arrivals.ts';

const message = (sender: number, seq: number): string =>
  `<message from='r@conference.localhost/u${sender}' type='groupchat' id='x'><body>${roomBody(sender, seq)}</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='a'/></message>`;

test('every message of the steady load is reported with its sender and number, others counted apart', () => {
  const seen: [number, number][] = [];
  const arrivals = new RoomArrivals((s, k) => seen.push([s, k]));
  arrivals.push(Buffer.from(`${message(0, 0)}<presence from='r@conference.localhost/u9'><x/></presence>${message(12, 345)}` +
    `<message type='groupchat'><subject>s</subject></message>${message(3, 7)}`));
  assert.deepEqual(seen, [[0, 0], [12, 345], [3, 7]]);
  assert.equal(arrivals.others, 1);
});

test('a stanza cut anywhere across chunks is read once, when its end arrives', () => {
  const text = message(4, 1234) + message(5, 6);
  for (let cut = 1; cut < text.length; cut++) {
    const seen: [number, number][] = [];
    const arrivals = new RoomArrivals((s, k) => seen.push([s, k]));
    arrivals.push(Buffer.from(text.slice(0, cut)));
    arrivals.push(Buffer.from(text.slice(cut)));
    assert.deepEqual(seen, [[4, 1234], [5, 6]], `cut at ${cut}`);
    assert.equal(arrivals.others, 0);
  }
});

test('a body that does not carry a sender and number is not taken for one', () => {
  const seen: [number, number][] = [];
  const arrivals = new RoomArrivals((s, k) => seen.push([s, k]));
  arrivals.push(Buffer.from("<message><body>merci</body></message><message><body>m1.</body></message>"));
  assert.deepEqual(seen, []);
  assert.equal(arrivals.others, 2);
});
