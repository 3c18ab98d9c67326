// Group chat (XEP-0045) at conference.<domain>: the service that holds the rooms. It finds
// (or creates) the room a stanza is for and hands it the stanza; everything else is the
// room's (room.ts). The persistent rooms this node owns are loaded from SQL at start (and
// when rooms move here) and written back as they change; the others live in memory and
// vanish with their last occupant.
//
// Standalone, this node holds every room. In a cluster each room lives on one owner node,
// and a stanza for it that arrives elsewhere is passed on there (room-placement.ts); what
// the room says goes out through kernel.deliverEach, once per node that holds occupants.
// What is about the whole service (the room list of disco#items, the rooms a user owns, the
// operators' tools) is asked of every node (room-requests.ts).
import { randomBytes } from 'node:crypto';
import {
  CLUSTER_LEAVING, MEMBERS_CHANGED, SESSION_LOST, type ClusterLeavingEvent, type MembersChangedEvent, type SessionLostEvent,
} from '../../cluster/cluster-events.ts';
import type { XmppModule } from '../../extension/module-context.ts';
import type { RoomAdmin } from '../../extension/room-admin.ts';
import { JID } from '../../jid/jid.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import { xml, type Element } from '../../xml/element.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { StanzaError, errorReply } from '../../xml/errors.ts';
import { runArchiveQuery } from '../mam/archive-query.ts';
import { ArchiveWriter } from '../mam/archive-writer.ts';
import { newArchiveId } from '../mam/stanza-id.ts';
import { VCARD_PROPERTIES } from '../vcard.ts';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC } from './namespaces.ts';
import { roomAdmin } from './room-admin.ts';
import { clusterRoomAdmin } from './room-admin-cluster.ts';
import { defaultConfig, storedConfig } from './room-config.ts';
import type { RoomArchive, RoomHost, RoomOutput, RoomStore } from './room-output.ts';
import {
  ROOM_HANDOFF_EVENT, ROOM_HANDOFF_TAKEN_EVENT, ROOM_STANDBY_EVENT, ROOM_STANZA_EVENT, RoomPlacement, type RoomStanza,
} from './room-placement.ts';
import { ROOM_ANSWER_EVENT, ROOM_REQUEST_EVENT, RoomRequests, type RoomResponder } from './room-requests.ts';
import { Room } from './room.ts';

/** Archive rows waiting for the database, at most (the messages are delivered whatever happens to them). */
const MAX_PENDING_ARCHIVE_ROWS = 10000;
/** As the account archives' defaults (xmpp.mam.max-page, xmpp.mam.count-limit). */
const MAX_ARCHIVE_PAGE = 100;
const ARCHIVE_COUNT_LIMIT = 1000;
/**
 * In a cluster, how long disco#items and a room's creation wait for the other nodes' rooms: a
 * node that says nothing by then is left out (its persistent rooms are still listed, from SQL).
 */
const GATHER_MS = 2_000;

/** A room held here as disco#items shows it: its name and its title, or null if it is not listed. */
type DirectoryEntry = [name: string, title: string | null];

export const MUC_PROPERTIES = {
  subdomain: {
    name: 'xmpp.muc.subdomain',
    type: 'string',
    default: 'conference',
    description: 'Subdomain of the group chat service (XEP-0045): rooms are room@<subdomain>.<domain>',
    live: false,
  } satisfies PropertyDefinition<string>,
  maxRoomsPerUser: {
    name: 'xmpp.muc.max-rooms-per-user',
    type: 'integer',
    default: 100,
    min: 0,
    max: 1000000,
    description: 'Rooms one user of this server may own, at most; 0: users may not create rooms',
    live: true,
  } satisfies PropertyDefinition<number>,
  historyLength: {
    name: 'xmpp.muc.history-length',
    type: 'integer',
    default: 20,
    min: 0,
    max: 10000,
    description: 'Messages of discussion history a new room keeps for those who join (its owner may change it)',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxHistoryLength: {
    name: 'xmpp.muc.max-history-length',
    type: 'integer',
    default: 200,
    min: 0,
    max: 10000,
    description: 'Messages of discussion history a room may keep, at most, whatever its owner asks',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxOccupants: {
    name: 'xmpp.muc.max-occupants',
    type: 'integer',
    default: 200,
    min: 0,
    max: 1000000,
    description: 'Occupants a new room admits, at most (its owner may change it); 0: no limit',
    live: true,
  } satisfies PropertyDefinition<number>,
  takeoverWait: {
    name: 'xmpp.muc.takeover-wait-seconds',
    type: 'integer',
    default: 30,
    min: 1,
    max: 600,
    description: 'In a cluster: how long a stanza for a room waits while the room moves to another node or its owner cannot be reached',
    live: true,
  } satisfies PropertyDefinition<number>,
};

export const mucModule: XmppModule = {
  name: 'muc',
  storage: ['muc', 'archive'],
  properties: Object.values(MUC_PROPERTIES),
  /** Returns the service's API for operators (the admin API). */
  async load(ctx): Promise<RoomAdmin> {
    const { kernel } = ctx;
    const repo = ctx.repository('muc');
    const subdomain = ctx.property<string>(MUC_PROPERTIES.subdomain);
    const maxRooms = ctx.property<number>(MUC_PROPERTIES.maxRoomsPerUser);
    const historyLength = ctx.property<number>(MUC_PROPERTIES.historyLength);
    const maxHistory = ctx.property<number>(MUC_PROPERTIES.maxHistoryLength);
    const maxOccupants = ctx.property<number>(MUC_PROPERTIES.maxOccupants);
    const takeoverWait = ctx.property<number>(MUC_PROPERTIES.takeoverWait);
    if (!JID.tryParse(`${subdomain.value}.${ctx.domain}`) || subdomain.value.includes('@') || subdomain.value.includes('/')) {
      throw new Error(`xmpp.muc.subdomain '${subdomain.value}' does not make a domain name`);
    }
    const rooms = new Map<string, Room>();
    // Rooms' vCards are bounded as accounts' are; the vcard module defines the limit, and a
    // server without that module keeps its default.
    const vcardLimit = (): number => {
      try {
        return ctx.readProperty<number>(VCARD_PROPERTIES.maxBytes.name);
      } catch {
        return VCARD_PROPERTIES.maxBytes.default;
      }
    };

    // Writes of one room are applied in the order the room made them.
    const pending = new Map<string, Promise<void>>();
    const queue = (name: string, write: () => Promise<void>): void => {
      const next = (pending.get(name) ?? Promise.resolve()).then(write).catch((err) => kernel.reportError(`storing room ${name}`, err));
      pending.set(name, next);
      void next.then(() => { if (pending.get(name) === next) pending.delete(name); });
    };
    const store: RoomStore = {
      saveRoom: (room) => queue(room.name, () => repo.saveRoom(room)),
      saveAffiliations: (name, affiliations) => queue(name, () => repo.saveAffiliations(name, affiliations)),
      deleteRoom: (name) => queue(name, () => repo.deleteRoom(name)),
    };

    const output: RoomOutput = {
      toOccupants(stanza, fullJids) {
        // One crossing per node that holds some of them; an occupant whose session is gone
        // without a word leaves the room.
        void kernel.deliverEach(stanza, fullJids).then((missed) => { for (const jid of missed) sessionGone(jid); });
      },
      route(stanza) {
        kernel.route(stanza, JID.parse(stanza.attrs.from!));
      },
    };
    // Room archives are rows of the accounts' archive table, owned by the room's JID (which no
    // account name can be, having an '@'), written after delivery as the mam module does.
    const archiveRepo = ctx.repository('archive');
    const writer = new ArchiveWriter(archiveRepo, () => MAX_PENDING_ARCHIVE_ROWS, ctx.log);
    // What this node holds: in a cluster, the rooms it owns (the others' are on their owners).
    ctx.metric({ name: 'xmppd_muc_rooms', type: 'gauge', help: 'Group chat rooms held by this node', read: () => rooms.size });
    ctx.metric({
      name: 'xmppd_muc_occupants', type: 'gauge', help: 'Occupants of the group chat rooms held by this node',
      read: () => { let n = 0; for (const room of rooms.values()) n += room.occupants.size; return n; },
    });
    ctx.metric({
      name: 'xmppd_muc_archive_rows_dropped_total', type: 'counter', read: () => writer.dropped,
      help: 'Room archive rows dropped since start (the database was behind or failed); their messages were delivered',
    });
    const archive: RoomArchive = {
      add(room, nick, message, at) {
        const id = newArchiveId();
        writer.add({ owner: room, id, with: room, withResource: nick, outgoing: false, at, stanza: message.toString() });
        return id;
      },
      async query(room, query, requester) {
        await writer.flushed();
        return runArchiveQuery(archiveRepo, { owner: room, archiveJid: room, query, send: (m) => { m.attrs.to = requester; void kernel.deliverToFull(requester, m); } },
          { maxPage: MAX_ARCHIVE_PAGE, countLimit: ARCHIVE_COUNT_LIMIT });
      },
      delete(room) {
        void writer.flushed().then(() => archiveRepo.deleteOwner(room)).catch((err) => kernel.reportError(`deleting the archive of ${room}`, err));
      },
      async recent(room, limit) {
        try {
          await writer.flushed();
          const rows = await archiveRepo.page(room, {}, limit, true);
          return rows.reverse().map((r) => ({ id: r.id, message: parseXml(r.stanza), at: r.at }));
        } catch (err) {
          kernel.reportError(`reading the archive of ${room}`, err);
          return [];
        }
      },
    };
    const host: RoomHost = {
      output,
      store,
      archive,
      now: () => new Date(),
      get maxHistory() { return maxHistory.value; },
      get maxVcardBytes() { return vcardLimit(); },
      closed: (name) => {
        rooms.delete(name);
        placement.changed(name);
      },
      changed: (name) => placement.changed(name),
    };
    const newConfig = (): ReturnType<typeof defaultConfig> => defaultConfig({
      historylength: Math.min(historyLength.value, maxHistory.value), maxusers: maxOccupants.value, occupantIdSalt: randomBytes(16).toString('hex'),
    });

    const sessionGone = (fullJid: string): void => {
      for (const room of [...rooms.values()]) room.sessionGone(fullJid);
    };

    /** The persistent rooms this node owns and does not hold yet (at load, and when rooms move here). */
    const loadOwned = async (owns: (name: string) => boolean): Promise<void> => {
      for (const stored of await repo.rooms()) {
        if (rooms.has(stored.name) || !owns(stored.name)) continue;
        rooms.set(stored.name, new Room(stored.name, domain(), storedConfig(stored.config, newConfig()), host, { locked: false, stored }));
      }
    };
    function domain(): string {
      return `${subdomain.value}.${ctx.domain}`;
    }

    const answer = (ev: StanzaEvent, payload: Element): void => {
      kernel.route(xml('iq', { type: 'result', id: ev.stanza.attrs.id, from: ev.stanza.attrs.to, to: ev.from.toString() }, payload), JID.parse(domain()));
    };
    const fail = (ev: Pick<StanzaEvent, 'stanza' | 'from' | 'to'>, err: StanzaError): void => {
      if (ev.stanza.attrs.type === 'error') return;
      const reply = errorReply(ev.stanza, err);
      reply.attrs.from = ev.to.toString();
      reply.attrs.to = ev.from.toString();
      kernel.route(reply, ev.to);
    };

    /** The service's own address: discovery only. */
    const serviceStanza = (ev: StanzaEvent): boolean => {
      const { stanza } = ev;
      if (stanza.name !== 'iq' || stanza.attrs.type !== 'get') return stanza.name === 'iq' ? false : true;
      const ns = stanza.getChildElements()[0]?.getNS();
      if (ns === NS_DISCO_INFO) {
        answer(ev, xml('query', { xmlns: NS_DISCO_INFO },
          xml('identity', { category: 'conference', type: 'text', name: 'Chatrooms' }),
          ...[NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC].map((v) => xml('feature', { var: v }))));
        return true;
      }
      if (ns === NS_DISCO_ITEMS) {
        // The persistent rooms as stored, then every node's rooms as they are now (a node
        // that does not answer in time leaves its temporary rooms out).
        const others = kernel.clusterNodes().length > 1 ? requests.gather('directory', [], GATHER_MS) : Promise.resolve(null);
        void Promise.all([repo.rooms(), others]).then(([stored, gathered]) => {
          const listed = new Map<string, string>();
          for (const r of stored) if (r.config.publicroom !== false) listed.set(r.name, typeof r.config.roomname === 'string' && r.config.roomname ? r.config.roomname : r.name);
          for (const entries of [directory(), ...(gathered?.answers.values() ?? [])] as DirectoryEntry[][]) {
            for (const [name, title] of entries) {
              if (title === null) listed.delete(name);
              else listed.set(name, title);
            }
          }
          answer(ev, xml('query', { xmlns: NS_DISCO_ITEMS }, ...[...listed].map(([name, title]) => xml('item', { jid: `${name}@${domain()}`, name: title }))));
        }, (err: unknown) => {
          kernel.reportError('listing rooms', err);
          fail(ev, new StanzaError('internal-server-error'));
        });
        return true;
      }
      return false;
    };

    /** The rooms held here as disco#items lists them. */
    const directory = (): DirectoryEntry[] => [...rooms.values()].map((r) => [r.name, r.config.publicroom && !r.locked ? r.config.roomname || r.name : null]);
    const ownedHere = (bare: string): number => [...rooms.values()].filter((r) => r.affiliationOf(bare) === 'owner').length;
    const tooMany = (): StanzaError => new StanzaError('not-allowed', 'You own as many rooms as you may');

    /** A presence to a room that does not exist creates it, if the sender may (XEP-0045 10.1). */
    const create = (ev: RoomStanza): void => {
      const { stanza, from } = ev;
      if (stanza.name !== 'presence' || stanza.attrs.type !== undefined) {
        if (stanza.name === 'presence') return;
        return fail(ev, new StanzaError('item-not-found', 'There is no such room'));
      }
      if (!ev.to.resource) return fail(ev, new StanzaError('jid-malformed', 'Join a room as room@service/nick'));
      const bare = from.bareString();
      if (from.domain !== ctx.domain || !from.local || maxRooms.value === 0) return fail(ev, new StanzaError('not-allowed', 'You may not create rooms here'));
      if (ownedHere(bare) >= maxRooms.value) return fail(ev, tooMany());
      if (kernel.clusterNodes().length < 2) return make(ev);
      // The rooms the user owns on the other nodes count too; what else comes for the room
      // meanwhile waits behind this presence.
      const name = ev.to.local;
      creating.set(name, []);
      void requests.gather('owned', [bare], GATHER_MS).then(({ answers }) => {
        const elsewhere = [...answers.values()].reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
        const later = creating.get(name) ?? [];
        creating.delete(name);
        if (unloaded) {
          for (const item of [ev, ...later]) fail(item, new StanzaError('service-unavailable', 'The group chat service is going away'));
          return;
        }
        // The room may have come here meanwhile, or gone to another owner: it is dispatched again.
        if (rooms.has(name) || placement.ownerOf(name) !== kernel.nodeId) placement.dispatch(ev);
        else if (ownedHere(bare) + elsewhere >= maxRooms.value) fail(ev, tooMany());
        else guarded(ev, () => make(ev));
        for (const item of later) placement.dispatch(item);
      });
    };
    /** Stanzas for rooms being created (waiting for the other nodes' counts), by room name. */
    const creating = new Map<string, RoomStanza[]>();
    let unloaded = false;

    const make = (ev: RoomStanza): void => {
      // A client that speaks MUC gets a reserved room, locked until configured; one that does
      // not (groupchat 1.0) an instant room (XEP-0045 10.1.1).
      const locked = ev.stanza.getChild('x', NS_MUC) !== undefined;
      const room = new Room(ev.to.local, domain(), newConfig(), host, { locked });
      room.setOwner(ev.from.bareString());
      rooms.set(room.name, room);
      room.open(ev.stanza, ev.from);
    };

    /** Runs a room's code for a stanza; what it throws is logged and answered, not thrown on. */
    const guarded = (ev: RoomStanza, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        ctx.log.error('group chat stanza failed', { error: err instanceof Error ? err.stack : String(err) });
        fail(ev, new StanzaError('internal-server-error'));
      }
    };

    /** A stanza for a room on the node that owns it. */
    const handleHere = (ev: RoomStanza): void => guarded(ev, () => {
      const room = rooms.get(ev.to.local);
      if (room) room.handle(ev.stanza, ev.from);
      else if (creating.has(ev.to.local)) creating.get(ev.to.local)!.push(ev);
      else create(ev);
    });
    const placement = new RoomPlacement(kernel, {
      rooms,
      handleHere,
      fromSnapshot: (snapshot) => Room.fromSnapshot({ ...snapshot, config: storedConfig({ ...snapshot.config }, newConfig()) }, domain(), host),
      loadOwned,
      fail,
    }, ctx.log, () => takeoverWait.value * 1000);
    await loadOwned((name) => placement.ownerOf(name) === kernel.nodeId);

    const local = roomAdmin({ rooms, service: domain, node: () => kernel.nodeId, host, newConfig, placed: (name) => placement.madeHere(name) });
    /** Another node's question, answered from the rooms held here. */
    const respond: RoomResponder = async (op, args) => {
      const [a, b, c] = args as [string, never, never];
      switch (op) {
        case 'list': return (await local.list()).rooms;
        case 'get': return local.get(a);
        case 'create': return local.create(a, b, c);
        case 'change': return local.change(a, b);
        case 'destroy': return local.destroy(a, b);
        case 'directory': return directory();
        case 'owned': return ownedHere(a);
      }
    };
    const requests = new RoomRequests(kernel, respond);

    const handle = (ev: StanzaEvent): boolean => {
      if (!ev.to.local) return serviceStanza(ev);
      placement.dispatch({ stanza: ev.stanza, from: ev.from, to: ev.to, hops: 0 });
      return true;
    };

    ctx.service(subdomain.value, 'Chatrooms', handle);
    ctx.hook(ROOM_STANZA_EVENT, (payload) => { placement.received(payload); return true; });
    ctx.hook(ROOM_HANDOFF_EVENT, (payload) => { placement.handoff(payload); return true; });
    ctx.hook(ROOM_STANDBY_EVENT, (payload) => { placement.standbyUpdate(payload); return true; });
    ctx.hook(ROOM_HANDOFF_TAKEN_EVENT, (payload) => { placement.handoffTaken(payload); return true; });
    ctx.hook(ROOM_REQUEST_EVENT, (payload) => { requests.request(payload); return true; });
    ctx.hook(ROOM_ANSWER_EVENT, (payload) => { requests.answer(payload); return true; });
    ctx.hook<MembersChangedEvent>(MEMBERS_CHANGED, ({ nodes, previous }) => { placement.membersChanged(nodes, previous); });
    ctx.hook<ClusterLeavingEvent>(CLUSTER_LEAVING, ({ nodes, waitUntil }) => { waitUntil(placement.leaving(nodes)); });
    // Occupants on a node that died leave their rooms; presence hears of it too, so this does not take the event.
    ctx.hook<SessionLostEvent>(SESSION_LOST, ({ jid }) => { sessionGone(jid.toString()); }, 10);
    // A deleted account keeps no affiliation: a room it alone owned goes on without an owner.
    ctx.onAccountDeleted(async (username) => {
      const bare = `${username}@${ctx.domain}`;
      await repo.deleteJid(bare);
      for (const room of rooms.values()) room.forget(bare);
    });
    ctx.onUnload(async () => {
      unloaded = true;
      requests.stop();
      placement.stop();
      for (const room of [...rooms.values()]) room.shutdown();
      rooms.clear();
      await Promise.all(pending.values());
      await writer.flushed();
    });
    return clusterRoomAdmin({
      local, requests, nodeId: () => kernel.nodeId, nodes: () => kernel.clusterNodes(), ownerOf: (name) => placement.ownerOf(name), holds: (name) => rooms.has(name),
    });
  },
};
