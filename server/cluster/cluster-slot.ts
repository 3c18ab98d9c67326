// Which ClusterManager and RoutingTable this node runs with. A node starts standalone (the
// StandaloneClusterManager and a LocalRoutingTable, both made here and nowhere else); the
// clustering plugin installs its own pair while clustering is on and uninstalls it when it
// goes off or the plugin unloads. Switching keeps every local session: its route is
// announced again in the new table, nobody is disconnected.
import type { Router } from '../routing/router.ts';
import { LocalRoutingTable, type RoutingTable } from '../routing/routing-table.ts';
import type { SessionManager } from '../session/session-manager.ts';
import { StandaloneClusterManager, type ClusterManager, type ClusterSummary } from './cluster-manager.ts';
import { ClusterNodes } from './cluster-nodes.ts';

/** Whoever installed the current pair (a plugin's context), compared by identity. */
export interface ClusterOwner {
  readonly name: string;
}

/** What the slot switches: the router's manager and the session manager's table. */
export interface ClusterTargets {
  router: Pick<Router, 'setClusterManager'>;
  sessions: Pick<SessionManager, 'setRoutingTable'>;
}

export class ClusterSlot {
  /** In use whenever no cluster is installed. */
  readonly standalone: ClusterManager;
  private targets: ClusterTargets | null = null;
  private installed: { owner: ClusterOwner; manager: ClusterManager } | null = null;
  private reporter: { owner: ClusterOwner; summary: () => ClusterSummary } | null = null;
  /** Switches run one at a time: each re-announces every session and must not interleave. */
  private chain: Promise<void> = Promise.resolve();
  private readonly nodes: ClusterNodes;

  /**
   * `nodesChanged` hears every change of the node list (the cluster/members-changed event);
   * `leaving` runs before an installed cluster is given up while other nodes are in it, its
   * manager still in use (the cluster/leaving event), and the switch waits for it.
   */
  constructor(
    nodeId: string,
    nodesChanged: (nodes: readonly string[], previous: readonly string[]) => void = () => undefined,
    private readonly leaving: (staying: readonly string[]) => Promise<unknown> = async () => undefined,
  ) {
    this.standalone = new StandaloneClusterManager(nodeId, () => this.reporter?.summary() ?? null);
    this.nodes = new ClusterNodes(this.standalone, nodesChanged);
  }

  /**
   * Lets `owner` (the clustering plugin) say what the node's cluster state is while no pair
   * is installed: clustering on but not joined yet, or lost. Null takes it back;
   * another owner is refused while one has a pair installed, as for install.
   */
  report(owner: ClusterOwner, summary: (() => ClusterSummary) | null): void {
    if (this.installed && this.installed.owner !== owner) {
      throw new Error(`cannot report a cluster state for ${owner.name}: ${this.installed.owner.name} has installed a cluster`);
    }
    if (summary) this.reporter = { owner, summary };
    else if (this.reporter?.owner === owner) this.reporter = null;
  }

  /** A standalone routing table: the one a node starts with and returns to. */
  localTable(): RoutingTable {
    return new LocalRoutingTable();
  }

  /** Wires the router and the session manager (made with `standalone` and `localTable()`). */
  connect(targets: ClusterTargets): void {
    this.targets = targets;
  }

  /** The manager in use. */
  current(): ClusterManager {
    return this.installed?.manager ?? this.standalone;
  }

  /** Name of whoever installed the current pair; null while standalone. */
  installedBy(): string | null {
    return this.installed?.owner.name ?? null;
  }

  /**
   * Makes `manager` and `table` the node's own: local sessions are announced in `table`
   * first, then the router sends through `manager`. The same owner may install again
   * (a new pair replaces its previous one); another owner is refused while one is installed.
   */
  install(owner: ClusterOwner, manager: ClusterManager, table: RoutingTable): Promise<void> {
    return this.serialize(async () => {
      const targets = this.connected();
      if (this.installed && this.installed.owner !== owner) {
        throw new Error(`cannot install a cluster for ${owner.name}: ${this.installed.owner.name} has installed one`);
      }
      try {
        await targets.sessions.setRoutingTable(table);
      } catch (err) {
        // Half-announced in a table that failed: standalone is the only state known to be whole.
        await this.toStandalone(targets);
        throw err;
      }
      targets.router.setClusterManager(manager);
      this.installed = { owner, manager };
      this.nodes.follow(manager);
    });
  }

  /**
   * Back to standalone: the router stops using the owner's manager and every local session
   * is announced in a fresh local table. Does nothing unless `owner` installed the pair.
   */
  uninstall(owner: ClusterOwner): Promise<void> {
    return this.serialize(async () => {
      if (this.installed?.owner !== owner) return;
      const self = this.standalone.nodeId;
      const staying = this.installed.manager.nodeIds().filter((n) => n !== self);
      if (staying.length) await this.leaving(staying).catch(() => undefined);
      await this.toStandalone(this.connected());
    });
  }

  private async toStandalone(targets: ClusterTargets): Promise<void> {
    this.installed = null;
    targets.router.setClusterManager(this.standalone);
    this.nodes.follow(this.standalone);
    await targets.sessions.setRoutingTable(this.localTable());
  }

  private connected(): ClusterTargets {
    if (!this.targets) throw new Error('the cluster slot is not connected to a router and a session manager');
    return this.targets;
  }

  private serialize(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
