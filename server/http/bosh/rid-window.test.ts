import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RidWindow } from './rid-window.ts';

test('classifies rids against the window after the last processed one', () => {
  const w = new RidWindow(100, 2);
  assert.equal(w.classify(101), 'next');
  assert.equal(w.classify(102), 'ahead');
  assert.equal(w.classify(103), 'outside');
  assert.equal(w.classify(100), 'repeat');
  assert.equal(w.classify(5), 'repeat');
  assert.equal(w.advance(), 101);
  assert.equal(w.highest, 101);
  assert.equal(w.classify(103), 'ahead');
});

test('keeps the responses of the last window of requests for repeats', () => {
  const w = new RidWindow(10, 2);
  for (const rid of [11, 12, 13, 14]) {
    w.advance();
    w.remember(rid, `<body r='${rid}'/>`);
  }
  assert.equal(w.response(14), "<body r='14'/>");
  assert.equal(w.response(13), "<body r='13'/>");
  assert.equal(w.response(12), undefined, 'older than the window: gone');
});

test('with acknowledgements, keeps exactly the unacknowledged responses', () => {
  const w = new RidWindow(10, 2);
  w.acknowledge(10);
  for (const rid of [11, 12, 13, 14]) {
    w.advance();
    w.remember(rid, String(rid));
  }
  assert.equal(w.response(11), '11', 'not acknowledged yet, so still kept');
  w.acknowledge(12);
  assert.equal(w.response(12), undefined);
  assert.equal(w.response(13), '13');
  w.acknowledge(11);
  assert.equal(w.response(13), '13', 'a lower ack does not move the floor back');
});

test('the buffer stays bounded when a client never acknowledges', () => {
  const w = new RidWindow(0, 2);
  w.acknowledge(0);
  for (let rid = 1; rid <= 100; rid++) {
    w.advance();
    w.remember(rid, String(rid));
  }
  assert.equal(w.response(100), '100');
  assert.equal(w.response(1), undefined);
});
