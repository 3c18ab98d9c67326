import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientSession } from '../../session/client-session.ts';
import type { Element } from '../../xml/element.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { InactiveHold } from './inactive-hold.ts';

function held(max = 10): { hold: InactiveHold; sent: string[] } {
  const sent: string[] = [];
  const session = { deliver: (el: Element) => sent.push(el.attrs.id ?? '') } as unknown as ClientSession;
  return { hold: new InactiveHold(session, () => max), sent };
}

const el = (text: string): Element => parseXml(text);
const states = "xmlns='http://jabber.org/protocol/chatstates'";

test('what is held and what is urgent', () => {
  const { hold } = held();
  assert.equal(hold.offer(el("<presence from='a@x/1' id='p'/>")), true, 'presence update');
  assert.equal(hold.offer(el("<presence from='a@x/1' type='unavailable' id='u'/>")), true, 'unavailable is an update too');
  assert.equal(hold.offer(el(`<message id='c'><active ${states}/><thread>t</thread><no-store xmlns='urn:xmpp:hints'/></message>`)), true, 'chat state with its companions');
  assert.equal(hold.size, 2, 'the later presence of a sender replaced the earlier');
  const { hold: h2 } = held();
  assert.equal(h2.offer(el("<presence from='a@x/1' type='subscribe' id='s'/>")), false, 'a subscription request is urgent');
  assert.equal(h2.offer(el(`<message id='b'><composing ${states}/><body>hi</body></message>`)), false, 'a body is urgent');
  assert.equal(h2.offer(el("<message id='r'><received xmlns='urn:xmpp:receipts'/></message>")), false, 'a receipt is urgent');
  assert.equal(h2.offer(el("<iq type='get' id='i'><ping xmlns='urn:xmpp:ping'/></iq>")), false, 'an IQ is urgent');
});

test('an urgent stanza and the bound flush in order; the latest presence takes the place of its arrival', () => {
  const { hold, sent } = held(3);
  hold.offer(el("<presence from='a@x/1' id='a1'/>"));
  hold.offer(el(`<message id='c1'><paused ${states}/></message>`));
  hold.offer(el("<presence from='a@x/1' id='a2'/>"));
  assert.equal(hold.offer(el("<message id='m'><body>x</body></message>")), false);
  assert.deepEqual(sent, ['c1', 'a2'], 'flushed before the urgent one is sent');
  for (const id of ['p1', 'p2', 'p3']) hold.offer(el(`<presence from='b@x/${id}' id='${id}'/>`));
  assert.deepEqual(sent, ['c1', 'a2']);
  hold.offer(el("<presence from='b@x/p4' id='p4'/>"));
  assert.deepEqual(sent, ['c1', 'a2', 'p1', 'p2', 'p3', 'p4'], 'over the bound everything goes');
  assert.equal(hold.size, 0);
});
