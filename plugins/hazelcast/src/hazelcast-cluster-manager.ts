// The ClusterManager the kernel asks how to reach another node: through this node's link to
// it, at the address the node published in the members map.
import type { Client } from 'hazelcast-client';
import type { AddressedTemplate, ClusterManager, ClusterSummary, Element, HazelcastMemberView, NodeConsistency } from 'xmppd';
import type { LinkPool } from './cluster-link.ts';
import type { Membership } from './membership.ts';

export class HazelcastClusterManager implements ClusterManager {
  private nodes: readonly string[] | null = null;
  private readonly nodeListeners = new Set<() => void>();

  constructor(
    readonly nodeId: string,
    private readonly membership: Membership,
    private readonly links: LinkPool,
    /** Whether the Hazelcast client is connected (it reconnects by itself after a loss). */
    private readonly connected: () => boolean,
    /** The cluster name and member addresses the client was configured with. */
    private readonly target: { cluster: string; addresses: string[] },
    /** The members the client is connected to. */
    private readonly hazelcastMembers: () => HazelcastMemberView[],
    /** The cluster-wide consistency check and repair (consistency.ts). */
    readonly consistency: (repair: boolean) => Promise<NodeConsistency[]>,
  ) {}

  isClustered(): boolean {
    return true;
  }

  async sendToNode(nodeId: string, fullJid: string, stanza: Element): Promise<boolean> {
    const peer = this.membership.peers().get(nodeId);
    if (!peer) return false;
    return this.links.send(nodeId, peer.address, fullJid, stanza.toString());
  }

  async sendEachToNode(nodeId: string, fullJids: readonly string[], template: AddressedTemplate): Promise<string[]> {
    const peer = this.membership.peers().get(nodeId);
    if (!peer) return [...fullJids];
    return this.links.sendEach(nodeId, peer.address, fullJids, template.head, template.tail);
  }

  /** This node and the peers of the membership map, sorted; kept until the membership changes. */
  nodeIds(): readonly string[] {
    return (this.nodes ??= [this.nodeId, ...this.membership.peers().keys()].sort());
  }

  onNodesChanged(listener: () => void): () => void {
    this.nodeListeners.add(listener);
    return () => this.nodeListeners.delete(listener);
  }

  /** A node joined or left the membership: the list is computed again and the kernel told. */
  membersChanged(): void {
    this.nodes = null;
    for (const listener of this.nodeListeners) listener();
  }

  broadcast(event: string, payload: unknown): void {
    for (const [nodeId, peer] of this.membership.peers()) void this.links.sendEvent(nodeId, peer.address, event, payload);
  }

  async sendEvent(nodeId: string, event: string, payload: unknown): Promise<boolean> {
    const peer = this.membership.peers().get(nodeId);
    if (!peer) return false;
    return this.links.sendEvent(nodeId, peer.address, event, payload);
  }

  summary(): ClusterSummary {
    const up = this.connected();
    return {
      enabled: true,
      state: up ? 'joined' : 'joined, reconnecting to Hazelcast',
      reason: up ? null : 'lost the connection to the Hazelcast cluster',
      members: this.membership.list(),
      seniorNodeId: this.membership.seniorNodeId(),
      hazelcast: this.target,
      hazelcastMembers: up ? this.hazelcastMembers() : [],
      linkFrames: this.links.framesSent(),
    };
  }
}

/** The members as the client's cluster view has them; their version is on the implementation, not the interface. */
export function hazelcastMembers(client: Client): HazelcastMemberView[] {
  return client.getCluster().getMembers().map((m) => {
    const v = (m as { version?: { major: number; minor: number; patch: number } }).version;
    return { address: m.address.toString(), uuid: m.uuid.toString(), version: v ? `${v.major}.${v.minor}.${v.patch}` : null, lite: m.liteMember };
  });
}
