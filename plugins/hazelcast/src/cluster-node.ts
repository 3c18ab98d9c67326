// One stay of this node in the cluster: join (connect to Hazelcast, open the link port,
// publish itself, load the routes, hand the kernel the clustered routing table and manager),
// reconcile after the Hazelcast client reconnected, and leave (the reverse, keeping every
// local session). When and how often to try is clustering.ts's business.
import { Client } from 'hazelcast-client';
import { addressedCopy, CLUSTER_JOINED, JID, REMOTE_EVENT_PREFIX, SESSION_LOST, StreamError, type ClusterJoinedEvent, type NodeConsistency, type PluginContext, type RouteEntry, type SessionLostEvent } from 'xmppd';
import { toClientConfig, type ClientSettings } from './client-config.ts';
import { LinkPool, LinkServer } from './cluster-link.ts';
import type { ConsistencyTarget } from './consistency.ts';
import { HazelcastClusterManager, hazelcastMembers } from './hazelcast-cluster-manager.ts';
import { hazelcastLogger } from './hazelcast-logger.ts';
import { FrameCounts } from './link-frames.ts';
import { MEMBERS_MAP, ROUTES_MAP } from './maps.ts';
import { Membership, type Departure, type MembershipTiming } from './membership.ts';
import { ReplicatedRoutingTable } from './replicated-routing-table.ts';

export interface ClusterNodeOptions {
  settings: ClientSettings;
  link: { host: string; port: number };
  timing: MembershipTiming;
  /** Longest a cluster operation (a delivery to another node, a handshake) may take, in ms. */
  executionTimeoutMs: () => number;
  /** The Hazelcast client gave up reconnecting (after cluster-connect-timeout-millis). */
  onLost(): void;
  /** The Hazelcast connection went down or came back (the node's health changed). */
  onConnection(up: boolean): void;
  /** The cluster-wide consistency check (consistency.ts), which the manager offers the kernel. */
  consistency(repair: boolean): Promise<NodeConsistency[]>;
}

interface Joined {
  client: Client;
  linkServer: LinkServer;
  links: LinkPool;
  table: ReplicatedRoutingTable;
  membership: Membership;
}

/**
 * Largest serialized stanza taken from another node for a limit of `maxBytes`. The sending
 * node accepted the stanza at most `maxBytes` long as its client wrote it, but its serialized
 * form can be longer: the router stamps a from attribute, and characters the client wrote
 * raw (a '>' in text, a quote in an attribute) go out as references. Twice the limit, plus
 * room for the stamped JIDs (at most 3,071 bytes each, RFC 7622), as the JSON frames allowed.
 */
const serializedLimit = (maxBytes: number): number => maxBytes * 2 + 8192;

/**
 * Told over the link, acknowledged, before a node that leaves on purpose removes anything:
 * its mark in the members map and its route removals are two maps, whose events reach the
 * others in no order, so a removal seen before the mark would be taken for a logout.
 */
export const LEAVING_EVENT = 'remote/cluster-node-leaving';
/** How long a leaving node waits for each peer to acknowledge LEAVING_EVENT. */
const LEAVING_ACK_MS = 2_000;

/** Routes removed from the cluster at once when leaving. */
const REMOVE_BATCH = 500;

export class ClusterNode {
  private joined: Joined | null = null;
  private connected = false;
  private stopping = false;
  /** Clustering was switched off while this attempt ran: it ends without a word. */
  private abandoned = false;
  /** Nodes that left on purpose, until when removals of their routes are taken for theirs. */
  private readonly leftOnPurpose = new Map<string, number>();

  constructor(private readonly ctx: PluginContext, private readonly options: ClusterNodeOptions) {}

  /** Whether the Hazelcast connection is up (for the health check). */
  get healthy(): boolean {
    return this.joined !== null && this.connected;
  }

  /** What the consistency check reads and repairs while the node is joined. */
  consistencyTarget(): ConsistencyTarget | null {
    const j = this.joined;
    if (!j) return null;
    return {
      differences: () => j.table.differences(),
      repair: async () => {
        await j.membership.reconcile();
        return j.table.reconcile();
      },
      peers: () => [...j.membership.peers().keys()],
      sendEvent: (node, event, payload) => {
        const peer = j.membership.peers().get(node);
        return peer ? j.links.sendEvent(node, peer.address, event, payload) : Promise.resolve(false);
      },
    };
  }

  /** The attempt under way is no longer wanted: its client's own retries log nothing more. */
  abandon(): void {
    this.abandoned = true;
  }

  /** One attempt to join; throws why it failed, having undone what it did. */
  async join(): Promise<void> {
    if (this.joined) return;
    this.stopping = false;
    await this.joinOnce();
  }

  async leave(): Promise<void> {
    this.stopping = true;
    const j = this.joined;
    if (!j) return;
    this.joined = null;
    // The other nodes' users are still online, most likely: while this node is out (a switch
    // off and on, an upgrade), messages for them wait for their routes rather than go offline.
    // Said before the switch of tables, so that no message slips through in between.
    const elsewhere = new Set(j.table.all().filter((r) => r.nodeId !== this.ctx.kernel.nodeId).map((r) => JID.parse(r.jid).bareString()));
    this.ctx.kernel.expectRoutes(elsewhere, this.options.executionTimeoutMs());
    await this.ctx.uninstallCluster();
    // The mark, then the member entry (one key: every node sees them in that order), then own
    // routes: the others drop this node's routes when its entry goes, as those of a node
    // that left on purpose (its sessions are still connected: nobody is told they went, and
    // messages for them wait), before the removals of the routes reach them, which may come
    // in any order. In batches: the client pipelines them. Cut off from Hazelcast, every
    // removal would fail (and say so): the others drop them once the member entry expires.
    await Promise.all([...j.membership.peers()].map(([peer, record]) => Promise.race([
      j.links.sendEvent(peer, record.address, LEAVING_EVENT, { node: this.ctx.kernel.nodeId }),
      new Promise((resolve) => setTimeout(resolve, LEAVING_ACK_MS).unref()),
    ])));
    if (this.connected) await j.membership.announceLeaving();
    await j.membership.stop();
    const own = this.connected ? j.table.ownRoutes() : [];
    for (let i = 0; i < own.length; i += REMOVE_BATCH) {
      await Promise.all(own.slice(i, i + REMOVE_BATCH).map((route) => j.table.removeRoute(route.jid)));
    }
    await j.table.stop();
    // What was sent before waits for its acknowledgement: failed now, it would be delivered
    // again (the peers flush their acknowledgements before closing, as this node does).
    j.links.drain();
    await j.linkServer.close();
    await j.client.shutdown().catch(() => undefined);
    this.ctx.log.info('left the cluster');
  }

  private async joinOnce(): Promise<void> {
    const { ctx, options } = this;
    const nodeId = ctx.kernel.nodeId;
    if (['0.0.0.0', '::', ''].includes(options.link.host)) {
      throw new Error(`the cluster link host (cluster.link.host) is ${JSON.stringify(options.link.host)}: it must be an address the other nodes can reach this one at`);
    }
    const client = await Client.newHazelcastClient({
      ...toClientConfig(options.settings),
      customLogger: hazelcastLogger(ctx.log, () => this.abandoned),
      lifecycleListeners: [(state) => this.lifecycle(state)],
    });
    this.connected = true;
    const cleanup: (() => Promise<unknown>)[] = [() => client.shutdown()];
    try {
      const secret = await ctx.sharedSecret('cluster.link');
      const linkOptions = {
        nodeId,
        secret,
        // A stanza at the limit (read when the node joins) as serialized again and its
        // recipient's JID fit; see serializedLimit. deliverLocally checks the live limit.
        maxFrameBytes: serializedLimit(ctx.readProperty<number>('xmpp.stanza.max-bytes')),
        timeoutMs: options.executionTimeoutMs,
        log: ctx.log.child('link'),
        counts: new FrameCounts(),
      };
      const linkServer = new LinkServer(linkOptions, {
        deliver: (to, xml, bytes) => this.deliverLocally(to, xml, bytes),
        deliverEach: (to, head, tail, bytes) => this.deliverEachLocally(to, head, tail, bytes),
        event: (name, payload) => this.fireRemoteEvent(name, payload),
      });
      const bound = await linkServer.listen(options.link.host, options.link.port);
      cleanup.push(() => linkServer.close());
      const address = `${options.link.host.includes(':') ? `[${options.link.host}]` : options.link.host}:${bound.port}`;
      const links = new LinkPool(linkOptions);
      cleanup.push(async () => links.close());

      const table = new ReplicatedRoutingTable(await client.getMap<string, string>(ROUTES_MAP), nodeId, ctx.log, (entry) => this.takenElsewhere(entry),
        (entry) => this.routeRemoved(entry));
      await table.start();
      cleanup.push(() => table.stop());
      const self = { address, joinedAt: Date.now(), version: ctx.kernel.version, plugin: ctx.manifest.version };
      // Made before the membership starts, which already reports the nodes it finds.
      let manager: HazelcastClusterManager | null = null;
      const membership = new Membership(await client.getMap<string, string>(MEMBERS_MAP), nodeId, self, options.timing, {
        joined: (peer, record) => {
          ctx.log.info('node joined the cluster', { peer, address: record.address });
          manager?.membersChanged();
        },
        left: (peer, how) => {
          // Its routes are dropped first (synchronously), so cluster/members-changed finds them gone.
          void this.nodeLeft(peer, how);
          manager?.membersChanged();
        },
        lostSelf: () => this.comeBack(),
      }, ctx.log, () => this.connected);
      await membership.start();
      cleanup.push(() => membership.stop());

      manager = new HazelcastClusterManager(nodeId, membership, links, () => this.connected,
        { cluster: options.settings.clusterName, addresses: options.settings.members }, () => hazelcastMembers(client), options.consistency);
      await ctx.installCluster(manager, table);
      this.joined = { client, linkServer, links, table, membership };
      ctx.log.info('joined the cluster', { cluster: options.settings.clusterName, link: address, nodes: membership.list().length, senior: membership.seniorNodeId() });
    } catch (err) {
      for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
      this.connected = false;
      throw err;
    }
    // Sessions that were here before the join (the node served standalone): presence makes
    // up for what they and the other nodes' sessions did not hear of each other.
    const sessions = this.joined.table.ownRoutes().map((r) => r.jid);
    if (sessions.length) ctx.kernel.fire<ClusterJoinedEvent>(CLUSTER_JOINED, { sessions });
  }

  private lifecycle(state: string): void {
    if (state === 'SHUTDOWN' && this.joined && !this.stopping) {
      this.connected = false;
      this.ctx.log.error('the Hazelcast client gave up reconnecting; leaving the cluster to join it again');
      this.options.onLost();
    } else if (state === 'DISCONNECTED') {
      this.connected = false;
      if (!this.joined) return;
      this.ctx.log.warn('lost the connection to the Hazelcast cluster; reconnecting');
      this.options.onConnection(false);
    } else if (state === 'CONNECTED') {
      const wasDown = !this.connected;
      this.connected = true;
      if (!wasDown || !this.joined) return;
      this.options.onConnection(true);
      void this.reconcile();
    }
  }

  /**
   * Back in touch with Hazelcast after an outage, which may have been a restart of every
   * member (then the maps are empty): routes and members are made whole again on both sides
   * (ReplicatedRoutingTable.reconcile, Membership.reconcile). A failure leaves it to the next
   * reconnection, or to the client giving up, which makes the node join afresh.
   */
  private async reconcile(): Promise<void> {
    const j = this.joined;
    if (!j) return;
    try {
      await j.membership.reconcile();
      const counts = await j.table.reconcile();
      this.ctx.log.info('reconnected to the Hazelcast cluster: routes reconciled', counts);
    } catch (err) {
      this.ctx.log.warn('cannot reconcile with the Hazelcast cluster after reconnecting', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * This node's member entry expired (it was frozen, or paused longer than the node timeout):
   * the others took it for dead, dropped its routes and told its users' contacts they went
   * unavailable. Its routes are published again, and its sessions' presence goes out again
   * as after a join, so that those contacts see them available once more.
   */
  private comeBack(): void {
    const j = this.joined;
    if (!j) return;
    const own = j.table.ownRoutes();
    this.ctx.log.info('this node was taken for dead: publishing its routes and presence again', { routes: own.length });
    void Promise.all(own.map((route) => j.table.addRoute(route))).then(() => {
      if (own.length && this.joined === j) this.ctx.kernel.fire<ClusterJoinedEvent>(CLUSTER_JOINED, { sessions: own.map((r) => r.jid) });
    });
  }

  /**
   * Another node says it is about to leave on purpose (LEAVING_EVENT): its users stay
   * online, so messages for them wait for their routes, whichever of its removals comes first.
   */
  peerLeaving(peer: string): void {
    const j = this.joined;
    if (!j || peer === this.ctx.kernel.nodeId) return;
    this.leftOnPurpose.set(peer, Date.now() + this.options.executionTimeoutMs());
    const users = new Set(j.table.all().filter((r) => r.nodeId === peer).map((r) => JID.parse(r.jid).bareString()));
    this.ctx.kernel.expectRoutes(users, this.options.executionTimeoutMs());
  }

  /** A route of a node leaving (or that left) on purpose went: its user is most likely still online. */
  private routeRemoved(entry: RouteEntry): void {
    const leaving = this.joined?.membership.peers().get(entry.nodeId)?.leaving || (this.leftOnPurpose.get(entry.nodeId) ?? 0) > Date.now();
    if (leaving) this.ctx.kernel.expectRoutes([JID.parse(entry.jid).bareString()], this.options.executionTimeoutMs());
  }

  /**
   * A stanza another node sent for a session here, written to the session as the text it came
   * in, not parsed and serialized again. Trusting the text is sound because only an
   * authenticated cluster node can send it (the link handshake proves the cluster secret), and
   * that node serialized it with serialize() from an element its own stream parser accepted
   * from its client (well-formed, restricted XML, within the size limit, addressed by its
   * router), so re-parsing here would only repeat checks already made. What this node must
   * still enforce it does: the size limit as configured here (serializedLimit of it; the
   * frame limit bounds it as well), that the recipient session exists here and is not closed, and the session's send
   * queue cap (the transport refuses and closes the stream over it); any refusal is acked as
   * not taken, and the sending node falls back as for a missing session.
   */
  private deliverLocally(to: string, xml: string, bytes: number): boolean {
    const max = serializedLimit(this.ctx.readProperty<number>('xmpp.stanza.max-bytes'));
    if (bytes > max) {
      this.ctx.log.warn('refusing a stanza from another node over xmpp.stanza.max-bytes', { to, bytes, max });
      return false;
    }
    return this.ctx.kernel.deliverSerialized(to, xml);
  }

  /**
   * One stanza another node sent for several sessions here, as a template: each copy is the
   * template with the recipient's `to` put in, written as deliverLocally writes one stanza
   * (the same trust, the same checks, the size limit once for the template).
   */
  private deliverEachLocally(to: readonly string[], head: string, tail: string, bytes: number): boolean[] {
    const max = serializedLimit(this.ctx.readProperty<number>('xmpp.stanza.max-bytes'));
    if (bytes > max) {
      this.ctx.log.warn('refusing a stanza from another node over xmpp.stanza.max-bytes', { recipients: to.length, bytes, max });
      return to.map(() => false);
    }
    const template = { head, tail };
    return to.map((jid) => this.ctx.kernel.deliverSerialized(jid, addressedCopy(template, jid)));
  }

  /** An event another node broadcast; only `remote/` events are fired on its behalf. */
  private fireRemoteEvent(name: string, payload: unknown): boolean {
    if (!name.startsWith(REMOTE_EVENT_PREFIX)) {
      this.ctx.log.warn('refusing an event from another node that is not a remote/ event', { name });
      return false;
    }
    this.ctx.kernel.fire(name, payload);
    return true;
  }

  /** Another node bound a full JID that a session here holds: this one gives way (RFC 6120 7.7.2.2). */
  private takenElsewhere(entry: RouteEntry): void {
    const session = this.ctx.kernel.localSession(entry.jid);
    if (!session) return;
    this.ctx.log.info('session replaced by one on another node', { jid: entry.jid, node: entry.nodeId });
    this.ctx.kernel.endSession(session, new StreamError('conflict', 'Replaced by new connection'), `replaced by a session on ${entry.nodeId} (conflict)`);
  }

  /**
   * A node left, died, or its entry expired. Every node forgets its routes at once. A node
   * that left on purpose keeps its sessions, and one whose entry expired may be frozen and come
   * back: messages for their users wait for the routes (up to hazelcast.max.execution.seconds)
   * instead of going to offline storage, and what was sent to it before waits for its
   * acknowledgement. The senior node alone removes the routes from the cluster and, unless the
   * node left on purpose, tells the contacts those sessions are gone, so that happens once.
   */
  private async nodeLeft(peer: string, departure: Departure): Promise<void> {
    const j = this.joined;
    if (!j) return;
    // A node that said it was leaving (LEAVING_EVENT) left on purpose, whatever the members map showed.
    const how: Departure = departure !== 'dead' && (this.leftOnPurpose.get(peer) ?? 0) > Date.now() ? 'left' : departure;
    const routes = j.table.dropNode(peer);
    if (how === 'left') this.leftOnPurpose.set(peer, Date.now() + this.options.executionTimeoutMs());
    j.links.forget(peer, how !== 'dead');
    if (how !== 'dead') this.ctx.kernel.expectRoutes(new Set(routes.map((r) => JID.parse(r.jid).bareString())), this.options.executionTimeoutMs());
    const senior = j.membership.seniorNodeId() === this.ctx.kernel.nodeId;
    const lost = how !== 'left';
    this.ctx.log.warn(how === 'left' ? 'node left the cluster' : 'node gone from the cluster', { peer, how, routes: routes.length, cleaning: senior });
    if (!senior || !routes.length) return;
    try {
      await j.table.purgeNode(routes);
    } catch (err) {
      this.ctx.log.error('cannot remove the routes of a departed node', { peer, error: err instanceof Error ? err.message : String(err) });
    }
    if (!lost) return;
    for (const route of routes) {
      this.ctx.kernel.fire<SessionLostEvent>(SESSION_LOST, { jid: JID.parse(route.jid), available: route.available });
    }
  }
}
