// Where each room lives in a cluster: on one owner node, the first of the live nodes by
// rendezvous hashing of the room's name (server/cluster/rendezvous.ts), so every node finds
// the same owner with no coordination. A stanza for a room that arrives on another node goes
// one hop to the owner, with its sender, as a `remote/muc-stanza` event; events to one node
// arrive in the order sent, so one sender's stanzas to one room stay in order.
//
// The owner keeps a standby copy of each room (occupants with their roles and last presence,
// configuration, affiliations, subject; not the history) on the node that would own it next
// (the second by rank), sent at most once per event-loop turn per room that changed. When the
// node list changes (cluster/members-changed):
//   - every node hands the rooms it holds and no longer owns to their new owners, history
//     and all, and sends every other node one handoff (most of them empty), so that each
//     knows when it has been given everything;
//   - the standby copies of rooms whose owner is gone become rooms again on their new owner,
//     and their occupants whose sessions have no route any more (they were on the dead
//     node) leave the room, as any occupant whose session vanished does;
//   - persistent rooms with no copy anywhere are loaded from SQL by their new owner.
// A node that leaves on purpose (cluster/leaving) hands its rooms over before it stops
// routing with the others, and waits until each of them said it took them (a
// `remote/muc-handoff-taken` on that node's own link, behind whatever it sent before; 5 s at
// most, and not at all when it holds no room): from then on the others pass nothing to it,
// so nothing is left with the leaving node.
// Until a node has every handoff it expects and its SQL load is done (or the wait bound
// passed), stanzas for rooms it does not hold wait, in order, rather than finding no room.
// A stanza whose owner cannot be reached waits likewise, tried again every second, until
// the node list changes or the wait bound passes. Standalone, this node owns every room and none of this sends anything.
import { ownerOf, ranked } from '../../cluster/rendezvous.ts';
import type { Kernel } from '../../extension/kernel.ts';
import { JID } from '../../jid/jid.ts';
import type { Logger } from '../../log.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { isRoomSnapshot, type RoomSnapshot } from './room-snapshot.ts';
import type { Room } from './room.ts';

/**
 * How long a leaving node waits for the others to say they took its rooms, at most: the
 * switch to standalone waits for it, and so do its users' messages to users of other nodes.
 */
const MAX_LEAVING_WAIT_MS = 5_000;

export const ROOM_STANZA_EVENT = 'remote/muc-stanza';
export const ROOM_HANDOFF_EVENT = 'remote/muc-handoff';
export const ROOM_STANDBY_EVENT = 'remote/muc-standby';
export const ROOM_HANDOFF_TAKEN_EVENT = 'remote/muc-handoff-taken';

/**
 * How many times a stanza is passed on before it waits instead: while two nodes disagree
 * about the node list, each may take the other for the owner; the next change settles it.
 */
const MAX_HOPS = 2;
/**
 * Room snapshots per event, by their JSON size: well under the cluster link's frame limit
 * (twice xmpp.stanza.max-bytes and more), so that many rooms moving at once travel in
 * several events rather than one that the link refuses.
 */
const EVENT_BUDGET = 16 * 1024;

export interface ForwardedStanza {
  node: string;
  from: string;
  /** The stanza, serialized as it arrived (its 'to' names the room or an occupant). */
  xml: string;
  hops: number;
}

export interface Handoff {
  node: string;
  /** The node list the sender decided on, joined by ','. */
  view: string;
  rooms: RoomSnapshot[];
  /** The sender is leaving the cluster: it owns nothing from now on, and waits for a handoff-taken. */
  leaving?: boolean;
  /** More of this handoff follows (rooms split over several events): not the last one. */
  more?: boolean;
}

export interface StandbyUpdate {
  node: string;
  rooms: RoomSnapshot[];
  /** Rooms that closed on the owner, or whose copy now lives on another node. */
  gone: string[];
}

/** A stanza for a room, as the service handles it. */
export interface RoomStanza {
  stanza: Element;
  from: JID;
  to: JID;
  hops: number;
  /** Set once it waited: when it gives up (Date.now() ms). */
  until?: number;
}

/** What the placement needs of the service that holds the rooms (index.ts). */
export interface RoomService {
  readonly rooms: Map<string, Room>;
  /** Handles a stanza for a room as its owner: finds or creates the room. */
  handleHere(item: RoomStanza): void;
  /** A room from another node's snapshot, not yet among `rooms`. */
  fromSnapshot(snapshot: RoomSnapshot): Room;
  /** Loads the persistent rooms that `owns` says are this node's and that it does not hold. */
  loadOwned(owns: (name: string) => boolean): Promise<void>;
  fail(item: RoomStanza, err: StanzaError): void;
}

interface Settling {
  view: string;
  expected: string[];
  loaded: boolean;
  timer: NodeJS.Timeout;
}

export class RoomPlacement {
  /** Copies of other nodes' rooms that this node would own next, by room name. */
  private readonly standby = new Map<string, { owner: string; snapshot: RoomSnapshot }>();
  /** Rooms whose standby copy is due, and the node each copy went to last. */
  private readonly dirty = new Set<string>();
  private readonly copiedTo = new Map<string, string>();
  private flushQueued = false;
  /** Stanzas that cannot be handled yet, per room, in arrival order. */
  private readonly waiting = new Map<string, RoomStanza[]>();
  private expiry: NodeJS.Timeout | null = null;
  /** The last handoff's view from each node. */
  private readonly handoffs = new Map<string, string>();
  private settling: Settling | null = null;
  private stopped = false;
  /** Nodes still in the list that said they are leaving (this one too, once it does). */
  private readonly departing = new Set<string>();
  /** Answers awaited by a leaving node: peer -> what resolves its wait. */
  private readonly taken = new Map<string, () => void>();

  constructor(
    private readonly kernel: Kernel,
    private readonly service: RoomService,
    private readonly log: Logger,
    /** How long a stanza may wait for its room (a rebuild, an owner that cannot be reached). */
    private readonly waitMs: () => number,
  ) {}

  private get self(): string {
    return this.kernel.nodeId;
  }

  /** The nodes rooms are placed on: the live ones, but for those leaving. */
  private nodes(): readonly string[] {
    const nodes = this.kernel.clusterNodes();
    return this.departing.size ? nodes.filter((n) => !this.departing.has(n)) : nodes;
  }

  ownerOf(name: string): string {
    return ownerOf(name, this.nodes()) ?? this.self;
  }

  /** A stanza for a room (or an occupant of it), from a local sender or forwarded by another node. */
  dispatch(item: RoomStanza): void {
    const name = item.to.local;
    if (this.waiting.has(name)) return this.hold(item);
    if (this.service.rooms.has(name)) return this.service.handleHere(item);
    const owner = this.ownerOf(name);
    if (owner !== this.self) {
      if (item.hops >= MAX_HOPS) return this.hold(item);
      const forwarded: ForwardedStanza = { node: this.self, from: item.from.toString(), xml: item.stanza.toString(), hops: item.hops + 1 };
      void this.kernel.sendEvent(owner, ROOM_STANZA_EVENT, forwarded).then((taken) => { if (!taken) this.hold(item); });
      return;
    }
    if (this.settling) return this.hold(item);
    this.service.handleHere(item);
  }

  /** A `remote/muc-stanza` event: another node passed a stanza on to this one. */
  received(payload: unknown): void {
    const p = payload as ForwardedStanza;
    if (typeof p?.xml !== 'string' || typeof p.from !== 'string' || typeof p.hops !== 'number') return;
    const from = JID.tryParse(p.from);
    const stanza = parseXml(p.xml);
    const to = JID.tryParse(stanza.attrs.to);
    if (!from || !to?.local) return;
    this.dispatch({ stanza, from, to, hops: p.hops });
  }

  /**
   * Waits, behind what already waits for the room, until the room arrives, the node list
   * changes, or the next retry (every second: an owner's link may be back).
   */
  private hold(item: RoomStanza): void {
    const name = item.to.local;
    const queue = this.waiting.get(name) ?? [];
    queue.push({ ...item, until: item.until ?? Date.now() + this.waitMs() });
    this.waiting.set(name, queue);
    this.expiry ??= setInterval(() => this.retry(), 1_000);
    this.expiry.unref();
  }

  /**
   * What waited beyond the bound is answered with an error (RFC 6120 8.3.3.14: try again
   * later); the rest is dispatched again, unless this node is still gathering its rooms.
   */
  private retry(): void {
    const now = Date.now();
    for (const [name, queue] of this.waiting) {
      while (queue.length && queue[0]!.until! <= now) {
        this.service.fail(queue.shift()!, new StanzaError('recipient-unavailable', 'The room cannot be reached right now', 'wait'));
      }
      if (!queue.length) this.waiting.delete(name);
    }
    if (!this.settling) this.release();
    if (!this.waiting.size && this.expiry) {
      clearInterval(this.expiry);
      this.expiry = null;
    }
  }

  /** Dispatches again what waits for one room (or every room), in order; the view may have changed. */
  private release(name?: string): void {
    const names = name === undefined ? [...this.waiting.keys()] : [name];
    for (const n of names) {
      const queue = this.waiting.get(n);
      if (!queue) continue;
      this.waiting.delete(n);
      for (const item of queue) this.dispatch({ ...item, hops: 0 });
    }
  }

  /** cluster/members-changed: rooms move to their new owners (see the top of this file). */
  membersChanged(all: readonly string[], previous: readonly string[]): void {
    if (this.stopped) return;
    const someGone = previous.some((n) => !all.includes(n));
    for (const n of this.departing) if (!all.includes(n) || (n === this.self && all.length === 1)) this.departing.delete(n);
    const nodes = all.filter((n) => !this.departing.has(n));
    const view = nodes.join(',');
    const alive = new Set(nodes);
    const { rooms } = this.service;
    const outgoing = new Map<string, RoomSnapshot[]>();
    const give = (node: string, snapshot: RoomSnapshot): void => {
      const list = outgoing.get(node) ?? [];
      list.push(snapshot);
      outgoing.set(node, list);
    };
    const owner = (name: string): string => ownerOf(name, nodes) ?? this.self;
    for (const [name, copy] of this.standby) {
      if (alive.has(copy.owner)) continue;
      this.standby.delete(name);
      if (owner(name) === this.self) this.adopt(copy.snapshot);
      else give(owner(name), copy.snapshot);
    }
    for (const room of [...rooms.values()]) {
      const next = owner(room.name);
      if (next === this.self) continue;
      give(next, room.snapshot(true));
      rooms.delete(room.name);
      // The copy on its standby node goes (the new owner makes its own).
      this.changed(room.name);
    }
    // Occupants on a node that is gone: its routes were dropped before this event. Only when
    // a node went: a node that has just joined may hold rooms handed to it before it has
    // every other node's routes, and would take their occupants for gone.
    if (someGone) {
      for (const room of [...rooms.values()]) {
        for (const jid of room.sessionJids()) if (!this.kernel.localSession(jid) && !this.kernel.routeOf(jid)) room.sessionGone(jid);
      }
    }
    this.sendHandoffs(nodes, view, outgoing, false);
    this.log.info('group chat: rooms placed on the new node list', { nodes: view, held: rooms.size, handedOver: [...outgoing.values()].reduce((n, l) => n + l.length, 0) });
    for (const name of rooms.keys()) this.changed(name);
    this.settle(view, nodes);
  }

  /** One handoff to every other node of `nodes`, with the rooms it gets (most often none). */
  private sendHandoffs(nodes: readonly string[], view: string, outgoing: Map<string, RoomSnapshot[]>, leaving: boolean): Promise<boolean>[] {
    return nodes.filter((peer) => peer !== this.self).map((peer) => {
      const parts = inBatches(outgoing.get(peer) ?? []);
      const sent = parts.map((rooms, i) => {
        const handoff: Handoff = { node: this.self, view, rooms, leaving: leaving || undefined, more: i < parts.length - 1 || undefined };
        return this.kernel.sendEvent(peer, ROOM_HANDOFF_EVENT, handoff);
      });
      return Promise.all(sent).then((taken) => {
        const failed = parts.filter((_, i) => !taken[i]).reduce((n, rooms) => n + rooms.length, 0);
        if (failed) this.log.warn('group chat: rooms could not be handed over', { node: peer, rooms: failed });
        return taken.every(Boolean);
      });
    });
  }

  /**
   * cluster/leaving: every room here goes to its owner among `staying`, history and all;
   * resolves once each of them answered (or could not be reached), so that nothing they
   * passed on to this node before is still on its way.
   */
  leaving(staying: readonly string[]): Promise<void> {
    this.departing.add(this.self);
    const outgoing = new Map<string, RoomSnapshot[]>();
    for (const room of [...this.service.rooms.values()]) {
      const owner = ownerOf(room.name, staying);
      if (owner === undefined) continue;
      const list = outgoing.get(owner) ?? [];
      list.push(room.snapshot(true));
      outgoing.set(owner, list);
      this.service.rooms.delete(room.name);
      this.changed(room.name);
    }
    const handed = [...outgoing.values()].reduce((n, l) => n + l.length, 0);
    this.log.info('group chat: leaving the cluster, rooms handed over', { rooms: handed, to: staying.join(',') });
    if (handed === 0) {
      // Nothing here for anyone to take, and so nothing passed on to this node is on its way
      // to a room of its own: the other nodes are told it leaves, and the switch does not
      // wait for their answers (which a node losing Hazelcast may not get for a while).
      void this.sendHandoffs(staying, staying.join(','), outgoing, true);
      this.settled();
      return Promise.resolve();
    }
    const unanswered = new Set(staying);
    const answered = staying.map((peer) => new Promise<void>((resolve) => this.taken.set(peer, () => {
      unanswered.delete(peer);
      resolve();
    })));
    const sent = this.sendHandoffs(staying, staying.join(','), outgoing, true);
    sent.forEach((p, i) => void p.then((ok) => { if (!ok) this.taken.get(staying[i]!)?.(); }));
    this.settled();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(this.waitMs(), MAX_LEAVING_WAIT_MS)); });
    return Promise.race([Promise.all(answered), bound]).then(() => {
      clearTimeout(timer);
      if (unanswered.size) this.log.warn('group chat: left the cluster before every node answered the handover', { nodes: [...unanswered] });
      this.taken.clear();
    });
  }

  /** A `remote/muc-handoff-taken` event: a node took what this leaving node handed it. */
  handoffTaken(payload: unknown): void {
    const node = (payload as { node?: unknown })?.node;
    if (typeof node === 'string') this.taken.get(node)?.();
  }

  /** Waits for every other node's handoff of this view and the SQL load, at most waitMs. */
  private settle(view: string, nodes: readonly string[]): void {
    if (this.settling) clearTimeout(this.settling.timer);
    const settling: Settling = {
      view,
      expected: nodes.filter((n) => n !== this.self),
      loaded: false,
      timer: setTimeout(() => {
        if (this.settling !== settling) return;
        this.log.warn('group chat: not every node handed its rooms over in time', {
          missing: settling.expected.filter((n) => this.handoffs.get(n) !== view), loaded: settling.loaded,
        });
        this.settled();
      }, this.waitMs()),
    };
    settling.timer.unref();
    this.settling = settling;
    this.service.loadOwned((name) => ownerOf(name, nodes) === this.self).catch((err) => this.kernel.reportError('loading persistent rooms', err))
      .finally(() => {
        settling.loaded = true;
        this.checkSettled();
      });
  }

  private checkSettled(): void {
    const s = this.settling;
    if (s && s.loaded && s.expected.every((n) => this.handoffs.get(n) === s.view)) this.settled();
  }

  private settled(): void {
    if (this.settling) clearTimeout(this.settling.timer);
    this.settling = null;
    this.release();
  }

  /** A `remote/muc-handoff` event: another node's rooms for this one, after a change of the node list. */
  handoff(payload: unknown): void {
    const h = payload as Handoff;
    if (typeof h?.node !== 'string' || typeof h.view !== 'string' || !Array.isArray(h.rooms)) return;
    if (h.leaving) {
      this.departing.add(h.node);
      // Its rooms are handed over whole: copies of them must not come back to life when it goes.
      for (const [name, copy] of this.standby) if (copy.owner === h.node) this.standby.delete(name);
    }
    for (const snapshot of h.rooms) {
      if (!isRoomSnapshot(snapshot)) continue;
      this.adopt(snapshot);
      this.release(snapshot.name);
    }
    if (h.more) return;
    this.handoffs.set(h.node, h.view);
    if (h.rooms.length || h.leaving) this.log.info('group chat: rooms handed over by another node', { node: h.node, rooms: h.rooms.length, leaving: h.leaving === true });
    if (h.leaving) {
      void this.kernel.sendEvent(h.node, ROOM_HANDOFF_TAKEN_EVENT, { node: this.self });
      // Stanzas that waited for the leaving node go to the rooms' owners now.
      this.release();
    }
    this.checkSettled();
  }

  /**
   * Takes a room from a snapshot. A room of that name here already (loaded from SQL, or made
   * while two nodes disagreed about the owner) keeps its state and takes the occupants in.
   */
  private adopt(snapshot: RoomSnapshot): void {
    const { rooms } = this.service;
    const here = rooms.get(snapshot.name);
    if (here && !here.empty) {
      here.readmit(snapshot.occupants);
    } else {
      const room = this.service.fromSnapshot(snapshot);
      rooms.set(snapshot.name, room);
      // A standby copy carries no history: its owner died.
      if (snapshot.history === undefined) room.reloadHistory();
    }
    this.changed(snapshot.name);
  }

  /**
   * A room made here without a stanza (an operator's): if another node owns it, it goes there
   * now, as one part of a handoff (which registers no node list).
   */
  madeHere(name: string): void {
    const room = this.service.rooms.get(name);
    const owner = this.ownerOf(name);
    if (!room || owner === this.self) return;
    this.service.rooms.delete(name);
    const handoff: Handoff = { node: this.self, view: '', rooms: [room.snapshot(true)], more: true };
    void this.kernel.sendEvent(owner, ROOM_HANDOFF_EVENT, handoff).then((sent) => {
      if (sent) return;
      this.log.warn('group chat: a room made here could not go to its owner node', { room: name, node: owner });
      if (!this.service.rooms.has(name)) this.service.rooms.set(name, room);
    });
  }

  /** A `remote/muc-standby` event: copies of the sender's rooms. */
  standbyUpdate(payload: unknown): void {
    const u = payload as StandbyUpdate;
    if (typeof u?.node !== 'string' || !Array.isArray(u.rooms) || !Array.isArray(u.gone)) return;
    for (const name of u.gone) if (this.standby.get(name)?.owner === u.node) this.standby.delete(name);
    for (const snapshot of u.rooms) if (isRoomSnapshot(snapshot)) this.standby.set(snapshot.name, { owner: u.node, snapshot });
  }

  /** A room here changed (or closed): its standby copy is sent at the end of this turn. */
  changed(name: string): void {
    if (this.stopped || this.nodes().length < 2) return;
    this.dirty.add(name);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    const nodes = this.nodes();
    const updates = new Map<string, StandbyUpdate>();
    const update = (node: string): StandbyUpdate => {
      let u = updates.get(node);
      if (!u) updates.set(node, u = { node: this.self, rooms: [], gone: [] });
      return u;
    };
    for (const name of this.dirty) {
      const room = this.service.rooms.get(name);
      const before = this.copiedTo.get(name);
      const next = room ? ranked(name, nodes)[1] : undefined;
      if (before !== undefined && before !== next && nodes.includes(before)) update(before).gone.push(name);
      if (room && next !== undefined) {
        update(next).rooms.push(room.snapshot(false));
        this.copiedTo.set(name, next);
      } else {
        this.copiedTo.delete(name);
      }
    }
    this.dirty.clear();
    for (const [node, u] of updates) {
      const parts = inBatches(u.rooms);
      parts.forEach((rooms, i) => void this.kernel.sendEvent(node, ROOM_STANDBY_EVENT, { ...u, rooms, gone: i === 0 ? u.gone : [] } satisfies StandbyUpdate));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.settling) clearTimeout(this.settling.timer);
    if (this.expiry) clearInterval(this.expiry);
    for (const queue of this.waiting.values()) {
      for (const item of queue) this.service.fail(item, new StanzaError('service-unavailable', 'The group chat service is going away'));
    }
    this.waiting.clear();
  }
}

/** Items (room snapshots, rooms of a list) in groups of about EVENT_BUDGET bytes of JSON each; one (empty) group at least. */
export function inBatches<T>(snapshots: readonly T[]): T[][] {
  const out: T[][] = [[]];
  let size = 0;
  for (const snapshot of snapshots) {
    const bytes = JSON.stringify(snapshot).length;
    if (size > 0 && size + bytes > EVENT_BUDGET) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1]!.push(snapshot);
    size += bytes;
  }
  return out;
}
