// The operators' API (RoomAdmin) over the whole cluster, in front of the one over the rooms
// this node holds (room-admin.ts). A question about one room goes to the node that holds it
// (this one if it does, else its owner by rendezvous hashing), which runs it through the
// room's own code as standalone; the list asks every live node at once and names those that
// did not answer in time. Standalone, or for a room held here, nothing is sent.
import type { RoomAdmin, RoomSummary } from '../../extension/room-admin.ts';
import { roomName } from './room-admin.ts';
import type { RoomRequestOp, RoomRequests } from './room-requests.ts';

/** How long an operator's question waits for another node's answer. */
export const ADMIN_ANSWER_MS = 5_000;

export interface ClusterRoomAdminDeps {
  /** The API over this node's rooms. */
  local: RoomAdmin;
  requests: RoomRequests;
  nodeId(): string;
  /** The live nodes, this one included (one, standalone). */
  nodes(): readonly string[];
  ownerOf(name: string): string;
  /** Whether this node holds the room now (it may, for a moment, while it moves). */
  holds(name: string): boolean;
}

export function clusterRoomAdmin(d: ClusterRoomAdminDeps): RoomAdmin {
  const { local } = d;
  /** Runs `here` if the room is this node's, else asks its owner node the same. */
  const at = async <T>(input: string, op: RoomRequestOp, args: unknown[], here: () => Promise<T>): Promise<T> => {
    const name = roomName(input, local.service);
    const owner = d.ownerOf(name);
    if (owner === d.nodeId() || d.holds(name)) return here();
    return await d.requests.ask(owner, op, args, ADMIN_ANSWER_MS) as T;
  };

  return {
    get service() { return local.service; },
    async list() {
      const here = await local.list();
      if (d.nodes().length < 2) return here;
      const { answers, missing } = await d.requests.gather('list', [], ADMIN_ANSWER_MS);
      // A room on its way to another node may be held by both for a moment: listed once.
      const byName = new Map(here.rooms.map((r) => [r.name, r]));
      for (const rooms of answers.values()) for (const r of rooms as RoomSummary[]) if (!byName.has(r.name)) byName.set(r.name, r);
      return { rooms: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), missing };
    },
    get: (name) => at(name, 'get', [name], () => local.get(name)),
    create: (name, owner, options = {}) => at(name, 'create', [name, owner, options], () => local.create(name, owner, options)),
    change: (name, change) => at(name, 'change', [name, change], () => local.change(name, change)),
    destroy: (name, opts = {}) => at(name, 'destroy', [name, opts], () => local.destroy(name, opts)),
  };
}
