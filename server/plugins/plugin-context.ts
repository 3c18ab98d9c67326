// What a plugin registers through: a ModuleContext (hooks, IQ handlers, disco, properties,
// unload steps, all recorded and undone at unload) plus what only plugins need: the
// properties declared in plugin.json, HTTP routes (admin and public) and console pages, the
// API of the plugins it depends on, health checks and, for a clustering plugin, the node's
// cluster manager and routing table. A plugin's hooks are also fenced: one that throws is
// logged and skipped, so a broken plugin cannot break routing for everyone else.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { ClusterManager, ClusterSummary } from '../cluster/cluster-manager.ts';
import type { ClusterSlot } from '../cluster/cluster-slot.ts';
import type { NodeClusterConfig } from '../config/types.ts';
import type { SecretRepository } from '../storage/types.ts';
import type { Dependency, DependencyMonitor } from '../health/dependency-monitor.ts';
import { ModuleContext, type ModuleServices } from '../extension/module-context.ts';
import type { Property, PropertyDefinition } from '../properties/types.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { PluginManifest } from './manifest.ts';
import type { AdminPageRegistry, PluginRoute, PluginRouteTable } from './plugin-routes.ts';

type Value = string | number | boolean;

/** What the host lends each plugin context. */
export interface PluginServices {
  adminRoutes: PluginRouteTable;
  /** Served on the client HTTP listeners. */
  publicRoutes: PluginRouteTable;
  adminPages: AdminPageRegistry;
  /** Where a clustering plugin installs its cluster manager and routing table. */
  cluster: ClusterSlot;
  /** The API a loaded plugin returned from load(), by plugin name. */
  pluginApiOf(name: string): unknown;
  health: DependencyMonitor;
  secrets: SecretRepository;
  /** The shared database, lent to plugins that have migrations of their own. */
  database: Knex;
  /** The `cluster` section of this node's configuration file (all unset when absent). */
  nodeCluster?: NodeClusterConfig;
  /** Loaded while the server starts (before its listeners open), not installed later. */
  atServerStart?: boolean;
}

const NO_NODE_CLUSTER: NodeClusterConfig = { linkHost: null, linkPort: null, configFile: null };

export class PluginContext extends ModuleContext {
  private readonly declared = new Map<string, Property>();
  /** Whether taking back the reported cluster state is among the unload steps yet. */
  private reportRecorded = false;
  readonly #services: PluginServices;

  constructor(
    /** The plugin's manifest, as checked. */
    readonly manifest: PluginManifest,
    /** The folder the plugin runs from (its own files: templates, assets, data it ships). */
    readonly dir: string,
    modules: ModuleServices,
    services: PluginServices,
  ) {
    super({ name: `plugin:${manifest.name}` }, modules);
    this.#services = services;
  }

  /** Defines the properties declared in plugin.json (the host calls it before load). */
  defineDeclaredProperties(): void {
    for (const def of this.manifest.properties) this.declared.set(def.name, super.property(def));
  }

  /**
   * The handle of a property: by name for one declared in plugin.json (so that
   * `xmppd property` knows it even when the server is not running), or defined here from a
   * full definition.
   */
  override property<T extends Value>(definition: PropertyDefinition<T> | string): Property<T> {
    if (typeof definition !== 'string') return super.property(definition);
    const prop = this.declared.get(definition);
    if (!prop) throw new Error(`property ${definition} is not declared in ${this.manifest.name}'s plugin.json`);
    return prop as Property<T>;
  }

  override hook<P>(event: string, handler: (payload: P) => boolean | void, priority = 0): void {
    super.hook<P>(event, (payload) => {
      try {
        const taken = handler(payload) as unknown;
        if (taken instanceof Promise) {
          // An async hook cannot take an event; its failure must not become an unhandled rejection.
          taken.catch((err: unknown) => this.hookFailed(event, err));
          return false;
        }
        return taken === true;
      } catch (err) {
        this.hookFailed(event, err);
        return false;
      }
    }, priority);
  }

  private hookFailed(event: string, err: unknown): void {
    this.log.error('hook handler failed', { event, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }

  /**
   * Serves a route on the admin listener at /plugins/<name><path>, for authenticated
   * administrators only (state-changing methods also need the CSRF token of a console login).
   */
  adminRoute(route: PluginRoute): void {
    this.onUnload(this.#services.adminRoutes.add(this.manifest.name, route));
  }

  /**
   * Serves a route on the client HTTP listeners (http and https) at /plugins/<name><path>,
   * to anyone who can reach them: no authentication, so the plugin checks whatever its
   * route needs (a token, a signature) and bounds what it does for a stranger.
   */
  httpRoute(route: PluginRoute): void {
    this.onUnload(this.#services.publicRoutes.add(this.manifest.name, route));
  }

  /** Lists a page in the admin console's navigation; `path` is one of this plugin's GET admin routes. */
  adminPage(page: { id: string; title: string; path: string }): void {
    this.onUnload(this.#services.adminPages.add({
      plugin: this.manifest.name,
      id: page.id,
      title: page.title,
      url: `/plugins/${this.manifest.name}${page.path}`,
    }));
  }

  /**
   * Adds a service this node depends on to the health monitor (see health/dependency-monitor.ts):
   * while its check fails, the node is degraded or, for a critical one, paused (no new
   * logins). Removed at unload, or earlier by calling the returned function.
   */
  healthCheck(dependency: Dependency): () => void {
    const remove = this.#services.health.add(dependency);
    this.onUnload(remove);
    // Checked at once rather than taken for available until the next round: a plugin loads
    // before the listeners open, so the first client already meets the state it implies.
    void this.#services.health.checkNow();
    return remove;
  }

  /**
   * Checks every dependency now rather than at the next round: for a plugin that knows its
   * service just came or went (the clustering plugin, once joined), so that the node's state
   * (and whether it takes logins) follows at once.
   */
  recheckHealth(): void {
    void this.#services.health.checkNow();
  }

  /**
   * Makes `manager` and `table` this node's cluster manager and routing table: every local
   * session is announced in `table` (with its availability and priority), then the router
   * reaches other nodes through `manager` and `server.cluster()` returns it. Only for a plugin
   * whose plugin.json says "kind": "cluster". Calling it again replaces the pair. If
   * announcing the sessions fails, the node is standalone again and the error is thrown.
   */
  async installCluster(manager: ClusterManager, table: RoutingTable): Promise<void> {
    if (this.manifest.kind !== 'cluster') {
      throw new Error(`plugin ${this.manifest.name} cannot install a cluster: only a plugin whose plugin.json says "kind": "cluster" may`);
    }
    await this.#services.cluster.install(this, manager, table);
  }

  /**
   * For a clustering plugin while it has no pair installed (clustering on but not joined yet,
   * or lost): what `server.cluster().summary()` answers, so /status and /metrics say why.
   * Taken back with null, and at unload.
   */
  reportClusterState(summary: (() => ClusterSummary) | null): void {
    if (this.manifest.kind !== 'cluster') {
      throw new Error(`plugin ${this.manifest.name} cannot report a cluster state: only a plugin whose plugin.json says "kind": "cluster" may`);
    }
    this.#services.cluster.report(this, summary);
    if (summary && !this.reportRecorded) {
      this.reportRecorded = true;
      this.onUnload(() => this.#services.cluster.report(this, null));
    }
  }

  /**
   * Whether the plugin is loaded as the server starts, before its listeners open, rather than
   * installed or upgraded while it runs (the clustering plugin holds logins back only then).
   */
  get loadedAtServerStart(): boolean {
    return this.#services.atServerStart ?? false;
  }

  /** This node's own cluster settings, from the `cluster` section of its configuration file. */
  get nodeCluster(): NodeClusterConfig {
    return this.#services.nodeCluster ?? NO_NODE_CLUSTER;
  }

  /**
   * Back to standalone: the standalone cluster manager and a fresh local routing table, in
   * which every local session is announced again; no session is disconnected. The plugin's
   * table is dropped as it is (removing this node's entries from the cluster is the plugin's
   * business). Does nothing unless this plugin installed the current pair.
   */
  async uninstallCluster(): Promise<void> {
    await this.#services.cluster.uninstall(this);
  }

  /**
   * A clustering plugin's unloading starts by going back to standalone, before its own
   * unload steps run, so that no stanza is routed through a manager whose connections are
   * closing.
   */
  override async unload(): Promise<void> {
    if (this.manifest.kind === 'cluster') {
      try {
        await this.uninstallCluster();
      } catch (err) {
        this.log.warn('could not go back to standalone', { error: err instanceof Error ? err.message : String(err) });
      }
    }
    await super.unload();
  }

  /**
   * The shared database (a knex instance, SQLite or MySQL/MariaDB as configured), for the
   * tables the plugin's own migrations create: only for a plugin whose plugin.json names a
   * `migrations` folder. The kernel's tables are not the plugin's to touch; what it may know
   * of them comes through `kernel` (and account deletions through onAccountDeleted).
   */
  get database(): Knex {
    if (!this.manifest.migrations) throw new Error(`plugin ${this.manifest.name} has no migrations, so no tables of its own: plugin.json names no "migrations" folder`);
    return this.#services.database;
  }

  /** What a plugin named in this plugin's dependencies returned from its load(). */
  dependency<T = unknown>(name: string): T {
    if (!(name in this.manifest.dependencies)) throw new Error(`${name} is not among ${this.manifest.name}'s dependencies in plugin.json`);
    return this.#services.pluginApiOf(name) as T;
  }

  /**
   * A random secret of 32 bytes shared by every node through the database, created by the
   * first node that asks for it (a clustering plugin authenticates its node links with one).
   * Names are global: prefix them with something of the plugin's.
   */
  async sharedSecret(name: string): Promise<Buffer> {
    const text = await this.#services.secrets.getOrCreate(name, () => randomBytes(32).toString('base64'));
    return Buffer.from(text, 'base64');
  }
}

/** The default export of a plugin's entry module. */
export interface Plugin {
  /** Registers everything through ctx; may return an API for plugins that depend on this one. */
  load(ctx: PluginContext): unknown;
}
