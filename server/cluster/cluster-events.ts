// Events a clustering plugin fires into the kernel's event bus, for modules to act on.
import type { JID } from '../jid/jid.ts';

/**
 * A session held by a node that left the cluster (it crashed or lost its link): fired once,
 * by one surviving node, for each of its routes, so that contacts learn it is gone.
 */
export const SESSION_LOST = 'cluster/session-lost';

export interface SessionLostEvent {
  jid: JID;
  /** The session had sent available presence. */
  available: boolean;
}

/**
 * This node joined a cluster while it had sessions of its own (clustering switched on while
 * it ran, or it served standalone for a while: Hazelcast was away). Neither side heard the
 * other's presence meanwhile: fired once per such join, with the full JIDs of the local
 * sessions, so that presence makes up for it (each available session is announced to its
 * contacts again, and theirs are probed).
 */
export const CLUSTER_JOINED = 'cluster/joined';

export interface ClusterJoinedEvent {
  /** Full JIDs of this node's sessions when it joined. */
  sessions: string[];
}

/**
 * Sessions this node took over from the replica of a node that died or could not be reached
 * (stream management resumption, server/stream/sm/session-replicas.ts): their contacts may
 * have been told they went offline, so presence makes up for it as after CLUSTER_JOINED.
 */
export const SESSIONS_RESTORED = 'cluster/sessions-restored';

/**
 * The nodes this node routes with (Kernel.clusterNodes()) changed: a node joined or left,
 * this node joined a cluster of others or went back to standalone. Fired by the kernel on
 * this node, with the new list, once per change; services that place state on nodes
 * (rendezvous.ts) move what a change gives to another owner.
 */
export const MEMBERS_CHANGED = 'cluster/members-changed';

export interface MembersChangedEvent {
  /** Node ids, this node's included, sorted. */
  nodes: readonly string[];
  /** The list before the change. */
  previous: readonly string[];
}

/**
 * This node is about to leave the cluster on purpose (clustering switched off, the plugin
 * unloaded, the node stopping): fired by the kernel before it goes back to standalone, the
 * cluster manager still in use, with the nodes that stay. A service that places state on
 * nodes hands over what this node holds and may make the switch wait (waitUntil) until the
 * others took it; it bounds its own wait.
 */
export const CLUSTER_LEAVING = 'cluster/leaving';

export interface ClusterLeavingEvent {
  /** The nodes that stay, sorted (this node is not among them). */
  nodes: readonly string[];
  waitUntil(work: Promise<unknown>): void;
}
