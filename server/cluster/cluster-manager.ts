// How to reach another node. Standalone there is none; the clustering plugin installs a
// ClusterManager that knows the members and keeps a link to each.
import type { Element } from '../xml/element.ts';

export interface ClusterMember {
  nodeId: string;
  /** Free-form address the member published (host:port of its cluster link). */
  address: string;
  joinedAt: Date;
}

export interface ClusterSummary {
  enabled: boolean;
  /** Human-readable state: 'standalone', 'joining', 'joined', 'failed: <reason>'. */
  state: string;
  members: ClusterMember[];
  seniorNodeId: string | null;
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
  summary(): ClusterSummary;
}

/** The standalone default: this node is the whole world. */
export class StandaloneClusterManager implements ClusterManager {
  constructor(readonly nodeId: string) {}

  isClustered(): boolean {
    return false;
  }

  async sendToNode(): Promise<boolean> {
    return false;
  }

  summary(): ClusterSummary {
    return { enabled: false, state: 'standalone', members: [], seniorNodeId: this.nodeId };
  }
}
