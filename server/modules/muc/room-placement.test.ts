// Room placement between nodes, with the cluster replaced by direct calls: each node is a
// RoomPlacement over real rooms, and a node's events reach the other in the order sent, as
// over a cluster link. The cluster test (test/cluster/muc.test.ts) runs the same over real
// processes; this one pins down the waiting rules without timing luck.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownerOf } from '../../cluster/rendezvous.ts';
import type { Kernel } from '../../extension/kernel.ts';
import { JID } from '../../jid/jid.ts';
import { Logger } from '../../log.ts';
import type { Element } from '../../xml/element.ts';
import { errorReply } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { defaultConfig, storedConfig } from './room-config.ts';
import type { RoomHost } from './room-output.ts';
import { ROOM_HANDOFF_EVENT, ROOM_HANDOFF_TAKEN_EVENT, ROOM_STANDBY_EVENT, ROOM_STANZA_EVENT, RoomPlacement } from './room-placement.ts';
import { Room } from './room.ts';

const SERVICE = 'conference.example';

interface TestNode {
  id: string;
  placement: RoomPlacement;
  rooms: Map<string, Room>;
  /** What this node's rooms sent: [to, stanza]. */
  out: [string, Element][];
  up: boolean;
}

/** Nodes that share one node list; `wait` is xmpp.muc.takeover-wait-seconds in ms. */
function cluster(ids: string[], wait = 5_000): { nodes: Map<string, TestNode>; list: string[]; routesGone: Set<string> } {
  const list = [...ids];
  const routesGone = new Set<string>();
  const nodes = new Map<string, TestNode>();
  for (const id of ids) {
    const rooms = new Map<string, Room>();
    const out: [string, Element][] = [];
    const host: RoomHost = {
      output: { toOccupants: (stanza, to) => { for (const jid of to) out.push([jid, stanza]); }, route: (stanza) => { out.push([stanza.attrs.to!, stanza]); } },
      store: { saveRoom: () => {}, saveAffiliations: () => {}, deleteRoom: () => {} },
      archive: { add: () => 'id', query: () => Promise.reject(new Error('none')), delete: () => {}, recent: async () => [] },
      now: () => new Date(),
      maxHistory: 50,
      maxVcardBytes: 65536,
      closed: (name) => { rooms.delete(name); },
      changed: (name) => node.placement.changed(name),
    };
    const config = () => defaultConfig({ historylength: 10, maxusers: 0, occupantIdSalt: 'salt' });
    const kernel = {
      nodeId: id,
      clusterNodes: () => list,
      localSession: () => undefined,
      routeOf: (jid: string) => (routesGone.has(jid) ? undefined : { jid }),
      reportError: () => {},
      sendEvent: async (to: string, event: string, payload: unknown) => {
        const peer = nodes.get(to);
        if (!peer?.up || !node.up) return false;
        // Through JSON, as over a link; handled in order, a turn later.
        const data: unknown = JSON.parse(JSON.stringify(payload));
        await Promise.resolve();
        if (event === ROOM_STANZA_EVENT) peer.placement.received(data);
        else if (event === ROOM_HANDOFF_EVENT) peer.placement.handoff(data);
        else if (event === ROOM_STANDBY_EVENT) peer.placement.standbyUpdate(data);
        else if (event === ROOM_HANDOFF_TAKEN_EVENT) peer.placement.handoffTaken(data);
        return true;
      },
    } as unknown as Kernel;
    const node: TestNode = { id, rooms, out, up: true, placement: null as unknown as RoomPlacement };
    node.placement = new RoomPlacement(kernel, {
      rooms,
      handleHere: (ev) => {
        const room = rooms.get(ev.to.local);
        if (room) return room.handle(ev.stanza, ev.from);
        const made = new Room(ev.to.local, SERVICE, config(), host, { locked: false });
        made.setOwner(ev.from.bareString());
        rooms.set(made.name, made);
        made.open(ev.stanza, ev.from);
      },
      fromSnapshot: (snapshot) => Room.fromSnapshot({ ...snapshot, config: storedConfig({ ...snapshot.config }, config()) }, SERVICE, host),
      loadOwned: async () => {},
      fail: (ev, err) => {
        const reply = errorReply(ev.stanza, err);
        out.push([ev.from.toString(), reply]);
      },
    }, new Logger('test'), () => wait);
    nodes.set(id, node);
  }
  return { nodes, list, routesGone };
}

const send = (node: TestNode, from: string, xml: string): void => {
  const stanza = parseXml(xml);
  node.placement.dispatch({ stanza, from: JID.parse(from), to: JID.parse(stanza.attrs.to!), hops: 0 });
};
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
const bodiesTo = (node: TestNode, jid: string): string[] => node.out.filter(([to, s]) => to === jid && s.attrs.type === 'groupchat').map(([, s]) => s.getChildText('body')!).filter(Boolean);
/** A room name that `owner` owns among `nodes`. */
const roomOf = (owner: string, nodes: string[]): string => {
  for (let i = 0; ; i++) if (ownerOf(`r${i}`, nodes) === owner) return `r${i}`;
};

test('a stanza for a room goes to its owner node, whichever node it arrives at; the room is made there only', async () => {
  const { nodes } = cluster(['node-a', 'node-b']);
  const a = nodes.get('node-a')!;
  const b = nodes.get('node-b')!;
  const room = roomOf('node-b', ['node-a', 'node-b']);
  send(a, 'alice@example/a', `<presence to='${room}@${SERVICE}/Alice'/>`);
  send(b, 'bob@example/b', `<presence to='${room}@${SERVICE}/Bob'/>`);
  await settle();
  assert.deepEqual([a.rooms.size, b.rooms.size], [0, 1]);
  for (let i = 0; i < 5; i++) send(a, 'alice@example/a', `<message to='${room}@${SERVICE}' type='groupchat'><body>${i}</body></message>`);
  await settle();
  assert.deepEqual(bodiesTo(b, 'bob@example/b'), ['0', '1', '2', '3', '4'], 'in the order sent, once');
});

test('when a node joins, the rooms it now owns come whole from their old owner; stanzas meanwhile wait and keep their order', async () => {
  const { nodes, list } = cluster(['node-a', 'node-b', 'node-c']);
  const a = nodes.get('node-a')!;
  const c = nodes.get('node-c')!;
  const room = roomOf('node-c', ['node-a', 'node-b', 'node-c']);
  assert.equal(ownerOf(room, ['node-a', 'node-b']) !== undefined, true);
  // c is not in the list yet: the room is made on its owner among a and b.
  list.splice(list.indexOf('node-c'), 1);
  const before = nodes.get(ownerOf(room, list)!)!;
  send(a, 'alice@example/a', `<presence to='${room}@${SERVICE}/Alice'/>`);
  await settle();
  send(a, 'alice@example/a', `<message to='${room}@${SERVICE}' type='groupchat'><body>old</body></message>`);
  await settle();
  assert.equal(before.rooms.has(room), true);
  // c joins: it hears first, and stanzas reach it before the old owner hands the room over.
  const beforeC = [...list];
  list.push('node-c');
  list.sort();
  c.placement.membersChanged(list, beforeC);
  send(c, 'bob@example/b', `<presence to='${room}@${SERVICE}/Bob'/>`);
  send(c, 'bob@example/b', `<message to='${room}@${SERVICE}' type='groupchat'><body>new</body></message>`);
  await settle();
  assert.equal(c.rooms.has(room), false, 'it waits for the others');
  for (const node of nodes.values()) if (node !== c) node.placement.membersChanged(list, beforeC);
  await settle();
  assert.equal(c.rooms.has(room), true);
  assert.equal(before.rooms.has(room), false);
  // Bob joined after the room arrived, and got its history; both got his message.
  assert.deepEqual(c.out.filter(([to]) => to === 'bob@example/b').map(([, s]) => s.getChildText('body')).filter(Boolean), ['old', 'new']);
  assert.deepEqual(bodiesTo(c, 'alice@example/a'), ['new']);
});

test('the owner node gone without a word: its standby node takes the room, its occupants leave, and what waited for it goes there', async () => {
  const { nodes, list, routesGone } = cluster(['node-a', 'node-b', 'node-c']);
  const room = roomOf('node-c', list);
  const c = nodes.get('node-c')!;
  const next = nodes.get(ownerOf(room, ['node-a', 'node-b'])!)!;
  const other = nodes.get(next.id === 'node-a' ? 'node-b' : 'node-a')!;
  send(other, 'alice@example/a', `<presence to='${room}@${SERVICE}/Alice'/>`);
  send(c, 'carol@example/c', `<presence to='${room}@${SERVICE}/Carol'/>`);
  await new Promise((r) => setTimeout(r, 20)); // the standby copy goes once per turn
  c.up = false;
  send(other, 'alice@example/a', `<message to='${room}@${SERVICE}' type='groupchat'><body>lost owner</body></message>`);
  await settle();
  const withC = [...list];
  list.splice(list.indexOf('node-c'), 1);
  // Carol's route went with her node.
  routesGone.add('carol@example/c');
  next.placement.membersChanged(list, withC);
  other.placement.membersChanged(list, withC);
  await settle();
  assert.equal(next.rooms.has(room), true);
  const toAlice = next.out.filter(([to]) => to === 'alice@example/a').map(([, s]) => s);
  assert.ok(toAlice.some((s) => s.name === 'presence' && s.attrs.from === `${room}@${SERVICE}/Carol` && s.attrs.type === 'unavailable'), 'Carol is shown leaving');
  assert.deepEqual(bodiesTo(next, 'alice@example/a'), ['lost owner'], 'what waited arrives once');
});

test('a stanza whose owner cannot be reached waits, then its sender gets recipient-unavailable', async () => {
  const { nodes } = cluster(['node-a', 'node-b'], 500);
  const a = nodes.get('node-a')!;
  const room = roomOf('node-b', ['node-a', 'node-b']);
  nodes.get('node-b')!.up = false;
  send(a, 'alice@example/a', `<message to='${room}@${SERVICE}' type='groupchat' id='m'><body>hello?</body></message>`);
  await settle();
  assert.equal(a.out.length, 0, 'it waits');
  await new Promise((r) => setTimeout(r, 1_200));
  const [to, error] = a.out[0]!;
  assert.equal(to, 'alice@example/a');
  assert.equal(error.attrs.type, 'error');
  assert.ok(error.getChild('error')?.getChild('recipient-unavailable'), String(error));
  a.placement.stop();
});

test('a node that joins keeps the occupants of a room handed to it before it has their routes', async () => {
  const { nodes, list, routesGone } = cluster(['node-a', 'node-b', 'node-c']);
  const room = roomOf('node-c', ['node-a', 'node-b', 'node-c']);
  list.splice(list.indexOf('node-c'), 1);
  const a = nodes.get('node-a')!;
  send(a, 'alice@example/a', `<presence to='${room}@${SERVICE}/Alice'/>`);
  await settle();
  const beforeC = [...list];
  list.push('node-c');
  list.sort();
  // The old owner hands the room over before c has taken in the new list, nor alice's route.
  for (const node of nodes.values()) if (node.id !== 'node-c') node.placement.membersChanged(list, beforeC);
  await settle();
  routesGone.add('alice@example/a');
  const c = nodes.get('node-c')!;
  c.placement.membersChanged(list, beforeC);
  await settle();
  assert.equal(c.rooms.has(room), true);
  assert.deepEqual(c.rooms.get(room)!.sessionJids(), ['alice@example/a'], 'alice is still in the room');
});
