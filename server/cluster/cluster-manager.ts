// How to reach another node. Standalone there is none; the clustering plugin installs a
// ClusterManager that knows the members and keeps a link to each.
import type { AddressedTemplate } from '../xml/addressed-copies.ts';
import type { Element } from '../xml/element.ts';

export interface ClusterMember {
  nodeId: string;
  /** Free-form address the member published (host:port of its cluster link). */
  address: string;
  joinedAt: Date;
  /** The xmppd version the node runs, and its clustering plugin's, as it published them (absent from older nodes). */
  version?: string;
  pluginVersion?: string;
}

/** A Hazelcast member the clustering plugin's client is connected to (not an xmppd node). */
export interface HazelcastMemberView {
  address: string;
  uuid: string;
  /** major.minor.patch, when the client knows it. */
  version: string | null;
  lite: boolean;
}

export interface ClusterSummary {
  enabled: boolean;
  /** Human-readable state: 'standalone', 'joining', 'joined', 'failed: <reason>'. */
  state: string;
  /** Why the node is not (or not fully) in the cluster while clustering is on; null otherwise. */
  reason?: string | null;
  members: ClusterMember[];
  seniorNodeId: string | null;
  /** What the clustering plugin's client reaches for, so an operator can check it: the cluster's name and member addresses. */
  hazelcast?: { cluster: string; addresses: string[] } | null;
  /** The Hazelcast members the client is connected to right now (none while it is not). */
  hazelcastMembers?: HazelcastMemberView[] | null;
  /** Frames this node sent over its cluster links since it joined, by frame type. */
  linkFrames?: Record<string, number>;
}

/**
 * How a node's view of the routes differs from the shared one (a consistency check): its own
 * sessions not published (`unpublished`), entries naming it for sessions it does not have
 * (`stale`), other nodes' routes it lacks (`missed`) or has and the cluster does not (`ghosts`).
 */
export interface RouteDifferences {
  unpublished: string[];
  stale: string[];
  missed: string[];
  ghosts: string[];
}

/** One node's consistency check (JIDs capped; the counts are whole). */
export interface NodeConsistency {
  node: string;
  checkedAt: string;
  /** Whether the node repaired what it found before answering. */
  repaired: boolean;
  counts: Record<keyof RouteDifferences, number>;
  differences: RouteDifferences;
  /** Set when the node could not be checked (no answer, or its check failed). */
  error?: string;
}

export interface ClusterManager {
  readonly nodeId: string;
  /** True when this node currently takes part in a cluster. */
  isClustered(): boolean;
  /**
   * Delivers a stanza to a session held by another node. Resolves false when the node is
   * unknown or the session is gone there, so the caller can fall back as RFC 6121 says.
   */
  sendToNode(nodeId: string, fullJid: string, stanza: Element): Promise<boolean>;
  /**
   * Delivers one stanza to several sessions held by one other node, crossing to it once: the
   * template (the stanza serialized without its `to`) and the recipients travel together and
   * that node writes each copy with its own `to`. Resolves with the recipients it did not
   * take (all of them when the node is unknown or unreachable).
   */
  sendEachToNode(nodeId: string, fullJids: readonly string[], template: AddressedTemplate): Promise<string[]>;
  /**
   * Ids of the live nodes this node routes with, itself included, sorted; only itself when
   * standalone. The same array until the membership changes.
   */
  nodeIds(): readonly string[];
  /** Calls `listener` whenever nodeIds() may have changed; returns what removes it. */
  onNodesChanged(listener: () => void): () => void;
  /**
   * Fires `event` with `payload` (plain JSON data) on the event bus of every other node, for
   * the modules that keep copies of shared state (rosters, block lists) and must hear of a
   * change made on another node. Names must start with `remote/`: nothing else is fired on
   * behalf of another node. Best effort: a node that is unreachable misses it.
   */
  broadcast(event: string, payload: unknown): void;
  /**
   * Fires a `remote/` event on one other node only (a request to the node that holds some
   * state, or its answer). Resolves true once that node took it, false when it is unknown or
   * unreachable.
   */
  sendEvent(nodeId: string, event: string, payload: unknown): Promise<boolean>;
  summary(): ClusterSummary;
  /**
   * Compares every node's routes with the cluster's shared ones and reports the differences,
   * repairing them first when asked; absent from a manager that keeps no shared state.
   */
  consistency?(repair: boolean): Promise<NodeConsistency[]>;
}

/** The prefix of the events a node fires on behalf of another (ClusterManager.broadcast). */
export const REMOTE_EVENT_PREFIX = 'remote/';

/** The standalone default: this node is the whole world. */
export class StandaloneClusterManager implements ClusterManager {
  private readonly alone: readonly string[];

  constructor(
    readonly nodeId: string,
    /**
     * What a clustering plugin says while clustering is on but this node is not joined
     * (waiting, joining, lost): /status and /metrics show it instead of plain standalone.
     */
    private readonly reported: () => ClusterSummary | null = () => null,
  ) {
    this.alone = [nodeId];
  }

  isClustered(): boolean {
    return false;
  }

  async sendToNode(): Promise<boolean> {
    return false;
  }

  async sendEachToNode(_nodeId: string, fullJids: readonly string[]): Promise<string[]> {
    return [...fullJids];
  }

  nodeIds(): readonly string[] {
    return this.alone;
  }

  onNodesChanged(): () => void {
    return () => undefined;
  }

  broadcast(): void {}

  async sendEvent(): Promise<boolean> {
    return false;
  }

  summary(): ClusterSummary {
    return this.reported() ?? { enabled: false, state: 'standalone', members: [], seniorNodeId: this.nodeId };
  }
}
