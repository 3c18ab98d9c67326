import { test } from 'node:test';
import { createKernel } from '../extension/kernel-facade.ts';
import { moduleServicesOf } from '../module-services.ts';
import type { SecretRepository } from '../storage/types.ts';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { EventBus } from '../events/event-bus.ts';
import { DependencyMonitor } from '../health/dependency-monitor.ts';
import { JID } from '../jid/jid.ts';
import { Logger } from '../log.ts';
import type { ServerContext } from '../server-context.ts';
import { parseManifest } from '../plugins/manifest.ts';
import { PluginContext } from '../plugins/plugin-context.ts';
import { AdminPageRegistry, PluginRouteTable } from '../plugins/plugin-routes.ts';
import { Router } from '../routing/router.ts';
import { LocalRoutingTable, type RouteEntry, type RoutingTable } from '../routing/routing-table.ts';
import { ClientSession } from '../session/client-session.ts';
import { SessionManager } from '../session/session-manager.ts';
import { ServerStats } from '../stats.ts';
import type { Transport } from '../transport/transport.ts';
import type { AddressedTemplate } from '../xml/addressed-copies.ts';
import { xml, type Element } from '../xml/element.ts';
import { parseXml } from '../xml/stream-parser.ts';
import type { ClusterManager, ClusterSummary } from './cluster-manager.ts';
import { ClusterSlot } from './cluster-slot.ts';

const quiet = new Logger('test');

/** A cluster manager that records what it was asked to carry to other nodes. */
class FakeManager implements ClusterManager {
  readonly sent: { nodeId: string; fullJid: string; stanza: Element }[] = [];
  readonly sentEach: { nodeId: string; fullJids: readonly string[]; text: string }[] = [];
  /** Recipients sendEachToNode says were not taken. */
  notTaken = new Set<string>();
  nodes: readonly string[] = ['node1', 'node2'];
  private readonly listeners = new Set<() => void>();
  constructor(readonly nodeId: string) {}
  async sendEachToNode(nodeId: string, fullJids: readonly string[], template: AddressedTemplate): Promise<string[]> {
    this.sentEach.push({ nodeId, fullJids, text: template.head + template.tail });
    return fullJids.filter((j) => this.notTaken.has(j));
  }
  nodeIds(): readonly string[] {
    return this.nodes;
  }
  onNodesChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** The membership moved (or not: `nodes` may be the same list again). */
  setNodes(nodes: readonly string[]): void {
    this.nodes = nodes;
    for (const l of this.listeners) l();
  }
  isClustered(): boolean {
    return true;
  }
  async sendToNode(nodeId: string, fullJid: string, stanza: Element): Promise<boolean> {
    this.sent.push({ nodeId, fullJid, stanza });
    return true;
  }
  broadcast(): void {}
  async sendEvent(): Promise<boolean> {
    return false;
  }
  summary(): ClusterSummary {
    return { enabled: true, state: 'joined', members: [], seniorNodeId: 'node0' };
  }
}

/**
 * A clustered table as the plugin would make it: lookups from a local replica that each
 * write updates at once, while the write to the cluster finishes a turn of the event loop
 * later (a network round trip); it already holds another node's route.
 */
class FakeTable implements RoutingTable {
  readonly local = new LocalRoutingTable();
  readonly added: RouteEntry[] = [];
  failAdds = false;
  constructor(remote: RouteEntry[] = []) {
    for (const r of remote) this.local.addRoute(r);
  }
  async addRoute(entry: RouteEntry): Promise<void> {
    this.local.addRoute({ ...entry });
    await new Promise((r) => setImmediate(r));
    if (this.failAdds) throw new Error('cluster map unreachable');
    this.added.push({ ...entry });
  }
  async updateRoute(entry: RouteEntry): Promise<void> {
    this.local.updateRoute(entry);
  }
  async removeRoute(fullJid: string): Promise<void> {
    this.local.removeRoute(fullJid);
  }
  getRoute(fullJid: string): RouteEntry | undefined {
    return this.local.getRoute(fullJid);
  }
  getRoutes(bareJid: string): readonly RouteEntry[] {
    return this.local.getRoutes(bareJid);
  }
  size(): number {
    return this.local.size();
  }
  all(): RouteEntry[] {
    return this.local.all();
  }
}

interface Node {
  slot: ClusterSlot;
  sessions: SessionManager;
  router: Router;
  server: ServerContext;
  context(kind: 'cluster' | 'feature', name?: string): PluginContext;
  /** Every cluster/members-changed the slot announced: the new list. */
  nodeChanges: (readonly string[])[];
  /** Binds a local session; `presence` makes it available with that priority. */
  bind(full: string, priority?: number): { session: ClientSession; received: Element[]; closed: () => boolean };
}

function node(): Node {
  const nodeChanges: (readonly string[])[] = [];
  const slot = new ClusterSlot('node1', (nodes) => nodeChanges.push(nodes));
  const events = new EventBus();
  const sessions = new SessionManager('node1', slot.localTable(), events, quiet);
  const router = new Router('localhost', events, sessions, slot.standalone, quiet);
  slot.connect({ router, sessions });
  const health = new DependencyMonitor(quiet, { intervalMs: () => 60_000, timeoutMs: 1000 });
  // Nothing here deletes accounts.
  const accounts = { delete: async () => false, add: () => () => {} };
  const kernel = createKernel({ version: '0.0.0', nodeId: 'node1', plaintextAuthAllowed: true, router, sessions, events, cluster: () => slot.current(), accounts });
  const server = { kernel, accounts, domain: 'localhost', log: quiet, events, router, sessions, health, cluster: () => slot.current() } as unknown as ServerContext;
  const modules = { ...moduleServicesOf(server), apiOf: () => undefined };
  const services = {
    adminRoutes: new PluginRouteTable(), publicRoutes: new PluginRouteTable(), adminPages: new AdminPageRegistry(), cluster: slot,
    pluginApiOf: () => undefined, health, secrets: {} as SecretRepository, database: {} as Knex,
  };
  return {
    slot,
    nodeChanges,
    sessions,
    router,
    server,
    context: (kind, name = 'clusterer') => new PluginContext(parseManifest({ name, version: '1.0.0', kind }), '/nowhere', modules, services),
    bind(full, priority) {
      const received: Element[] = [];
      let closed = false;
      const transport = { kind: 'tcp', secure: false, remoteAddress: '127.0.0.1', send: (el: Element) => received.push(el),
        sendSerialized: (text: string) => received.push(parseXml(text)) > 0, close: () => { closed = true; } };
      const session = new ClientSession('s', JID.parse(full), transport as unknown as Transport, new ServerStats());
      sessions.bind(session);
      if (priority !== undefined) {
        session.presence = xml('presence');
        session.priority = priority;
        sessions.presenceChanged(session);
      }
      return { session, received, closed: () => closed };
    },
  };
}

const carol: RouteEntry = { jid: 'carol@localhost/phone', nodeId: 'node2', available: true, priority: 1 };

test('installing a cluster announces local sessions in its table and routes to other nodes through its manager; uninstalling goes back to local delivery', async () => {
  const n = node();
  const alice = n.bind('alice@localhost/desk', 5);
  const bob = n.bind('bob@localhost/phone');
  const ctx = n.context('cluster');
  const manager = new FakeManager('node1');
  const table = new FakeTable([carol]);

  await ctx.installCluster(manager, table);
  assert.equal(n.server.cluster(), manager);
  assert.equal(n.slot.installedBy(), 'plugin:clusterer');
  assert.equal(n.sessions.routingTable, table);
  // Available sessions carry the presence they broadcast (the other nodes answer probes with it).
  const withoutPresence = (r: RouteEntry | undefined) => {
    if (!r) return r;
    // How the client is connected is the session's, checked in the admin API's tests.
    const { presence, connection: _connection, ...rest } = r;
    return { ...rest, presence: presence?.name };
  };
  assert.deepEqual(table.added.sort((a, b) => (a.jid < b.jid ? -1 : 1)).map(withoutPresence), [
    { jid: 'alice@localhost/desk', nodeId: 'node1', available: true, priority: 5, presence: 'presence' },
    { jid: 'bob@localhost/phone', nodeId: 'node1', available: false, priority: 0, presence: undefined },
  ]);
  const toCarol = xml('message', { to: carol.jid, from: 'alice@localhost/desk' }, xml('body', null, 'hi'));
  assert.equal(await n.router.deliverToFull(carol.jid, toCarol), true);
  assert.deepEqual(manager.sent.map((s) => [s.nodeId, s.fullJid, s.stanza]), [['node2', carol.jid, toCarol]]);
  // A session bound while clustered goes to the cluster's table.
  n.bind('dave@localhost/laptop', -1);
  await new Promise((r) => setImmediate(r));
  assert.equal(table.getRoute('dave@localhost/laptop')?.priority, -1);

  await ctx.uninstallCluster();
  assert.equal(n.server.cluster(), n.slot.standalone);
  assert.equal(n.slot.installedBy(), null);
  const local = n.sessions.routingTable;
  assert.ok(local instanceof LocalRoutingTable);
  assert.deepEqual(['alice@localhost/desk', 'bob@localhost/phone', 'dave@localhost/laptop'].map((j) => withoutPresence(local.getRoute(j))), [
    { jid: 'alice@localhost/desk', nodeId: 'node1', available: true, priority: 5, presence: 'presence' },
    { jid: 'bob@localhost/phone', nodeId: 'node1', available: false, priority: 0, presence: undefined },
    { jid: 'dave@localhost/laptop', nodeId: 'node1', available: true, priority: -1, presence: 'presence' },
  ]);
  assert.equal(local.getRoute(carol.jid), undefined, 'other nodes are forgotten');
  assert.equal(n.router.deliverToFull(carol.jid, toCarol), false);
  assert.equal(manager.sent.length, 1, 'the uninstalled manager is no longer used');
  const toAlice = xml('message', { to: 'alice@localhost/desk' }, xml('body', null, 'still here'));
  assert.equal(n.router.deliverToFull('alice@localhost/desk', toAlice), true);
  assert.deepEqual(alice.received, [toAlice]);
  assert.equal(alice.closed() || bob.closed(), false, 'nobody is disconnected');
  assert.equal(alice.session.closed || bob.session.closed, false);
});

test('only a plugin of kind "cluster" may install one', async () => {
  const n = node();
  await assert.rejects(n.context('feature', 'echo').installCluster(new FakeManager('node1'), new FakeTable()), {
    message: 'plugin echo cannot install a cluster: only a plugin whose plugin.json says "kind": "cluster" may',
  });
  assert.equal(n.server.cluster(), n.slot.standalone);
  assert.ok(n.sessions.routingTable instanceof LocalRoutingTable);
});

test('unloading the plugin uninstalls its cluster; another plugin cannot take it over meanwhile', async () => {
  const n = node();
  n.bind('alice@localhost/desk', 0);
  const first = n.context('cluster', 'first');
  const second = n.context('cluster', 'second');
  const order: string[] = [];
  first.onUnload(() => {
    // The plugin's own shutdown (closing its client) runs once the node is standalone again.
    order.push(n.server.cluster() === n.slot.standalone ? 'closed after uninstall' : 'closed while installed');
  });
  await first.installCluster(new FakeManager('node1'), new FakeTable());
  await assert.rejects(second.installCluster(new FakeManager('node1'), new FakeTable()), {
    message: 'cannot install a cluster for plugin:second: plugin:first has installed one',
  });
  await second.uninstallCluster();
  assert.equal(n.slot.installedBy(), 'plugin:first', 'uninstalling is only for the owner');

  // Installing again replaces the owner's pair.
  const again = new FakeManager('node1');
  await first.installCluster(again, new FakeTable());
  assert.equal(n.server.cluster(), again);

  await first.unload();
  assert.deepEqual(order, ['closed after uninstall']);
  assert.equal(n.server.cluster(), n.slot.standalone);
  assert.ok(n.sessions.routingTable.getRoute('alice@localhost/desk'));
  await second.installCluster(new FakeManager('node1'), new FakeTable());
  assert.equal(n.slot.installedBy(), 'plugin:second');
});

test('a table that fails while sessions are announced leaves the node standalone, with its sessions routed', async () => {
  const n = node();
  n.bind('alice@localhost/desk', 2);
  const table = new FakeTable();
  table.failAdds = true;
  await assert.rejects(n.context('cluster').installCluster(new FakeManager('node1'), table), { message: 'cluster map unreachable' });
  assert.equal(n.server.cluster(), n.slot.standalone);
  assert.ok(n.sessions.routingTable instanceof LocalRoutingTable);
  assert.equal(n.sessions.routingTable.getRoute('alice@localhost/desk')?.priority, 2);
});

test('a session that ends while the table is swapped leaves no route behind; one that changes priority is announced as it is', async () => {
  const n = node();
  const a = n.bind('alice@localhost/a', 1);
  const b = n.bind('alice@localhost/b', 1);
  const c = n.bind('alice@localhost/c', 1);
  const table = new FakeTable();
  const installing = n.context('cluster').installCluster(new FakeManager('node1'), table);
  // The announcement of a is under way: b ends, c changes priority before its turn.
  n.sessions.unbind(b.session, 'closed by client');
  c.session.priority = 7;
  n.sessions.presenceChanged(c.session);
  await installing;
  assert.deepEqual(table.local.getRoutes('alice@localhost').map((r) => [r.jid, r.priority]), [
    ['alice@localhost/a', 1],
    ['alice@localhost/c', 7],
  ]);
  assert.equal(a.session.closed, false);
});

test('a health check added by a plugin is removed at unload', async () => {
  const n = node();
  const ctx = n.context('cluster');
  ctx.healthCheck({ name: 'Hazelcast', critical: true, check: async () => false });
  assert.equal((await n.server.health.checkNow()).state, 'paused');
  await ctx.unload();
  const status = await n.server.health.checkNow();
  assert.equal(status.state, 'running');
  assert.deepEqual(status.dependencies, []);
});

test('a clustering plugin reports its state while not joined; an installed pair and unloading take over from it', async () => {
  const n = node();
  const ctx = n.context('cluster');
  const waiting: ClusterSummary = { enabled: true, state: 'joining', reason: 'no member answers', members: [], seniorNodeId: null };
  ctx.reportClusterState(() => waiting);
  assert.equal(n.server.cluster(), n.slot.standalone, 'still standalone');
  assert.deepEqual(n.server.cluster().summary(), waiting);
  assert.throws(() => n.context('feature', 'echo').reportClusterState(() => waiting), /only a plugin whose plugin.json says "kind": "cluster" may/);

  await ctx.installCluster(new FakeManager('node1'), new FakeTable());
  assert.equal(n.server.cluster().summary().state, 'joined', 'the installed manager answers');
  assert.throws(() => n.context('cluster', 'other').reportClusterState(() => waiting), {
    message: 'cannot report a cluster state for plugin:other: plugin:clusterer has installed a cluster',
  });
  await ctx.uninstallCluster();
  assert.deepEqual(n.server.cluster().summary(), waiting, 'not joined again: the report is back');

  await ctx.unload();
  assert.deepEqual(n.server.cluster().summary(), { enabled: false, state: 'standalone', members: [], seniorNodeId: 'node1' });
});

test('deliverEach writes a copy to each local session, one call per other node for its recipients, and returns who was not reached', async () => {
  const n = node();
  const alice = n.bind('alice@localhost/desk', 1);
  const bob = n.bind('bob@localhost/phone', 1);
  const manager = new FakeManager('node1');
  const dave: RouteEntry = { jid: 'dave@localhost/tab', nodeId: 'node3', available: true, priority: 0 };
  const erin: RouteEntry = { jid: 'erin@localhost/tab', nodeId: 'node2', available: true, priority: 0 };
  await n.context('cluster').installCluster(manager, new FakeTable([carol, dave, erin]));
  manager.notTaken.add(erin.jid);
  const stanza = xml('message', { xmlns: 'jabber:client', type: 'headline', from: 'owner@localhost', to: 'ignored@localhost' }, xml('body', {}, 'hi & bye'));
  const missed = await n.server.kernel.deliverEach(stanza, [alice.session.jid.toString(), carol.jid, 'nobody@localhost/x', bob.session.jid.toString(), erin.jid, dave.jid, carol.jid]);
  assert.deepEqual(missed.sort(), ['erin@localhost/tab', 'nobody@localhost/x']);
  for (const [who, got] of [['alice@localhost/desk', alice.received], ['bob@localhost/phone', bob.received]] as const) {
    assert.equal(got.length, 1, `${who} got one copy`);
    assert.equal(got[0]!.attrs.to, who);
    assert.equal(got[0]!.getChildText('body'), 'hi & bye');
  }
  const byNode = new Map(manager.sentEach.map((s) => [s.nodeId, s.fullJids]));
  assert.equal(manager.sentEach.length, 2, 'one call per other node');
  assert.deepEqual(byNode.get('node2'), [carol.jid, erin.jid], 'each recipient once');
  assert.deepEqual(byNode.get('node3'), [dave.jid]);
  assert.equal(manager.sent.length, 0, 'no delivery one by one');
  assert.ok(!manager.sentEach[0]!.text.includes('ignored@'), 'the stanza\'s own to is not sent');
  assert.equal(stanza.attrs.to, 'ignored@localhost', 'the caller\'s element is left alone');
});

test('clusterNodes follows the manager in use, and every change of the list is announced once', async () => {
  const n = node();
  assert.deepEqual(n.server.kernel.clusterNodes(), ['node1']);
  const ctx = n.context('cluster');
  const manager = new FakeManager('node1');
  await ctx.installCluster(manager, new FakeTable());
  assert.deepEqual(n.server.kernel.clusterNodes(), ['node1', 'node2']);
  manager.setNodes(['node1', 'node2']);
  manager.setNodes(['node1', 'node2', 'node3']);
  assert.deepEqual(n.server.kernel.clusterNodes(), ['node1', 'node2', 'node3']);
  await ctx.uninstallCluster();
  manager.setNodes(['node1', 'node4']);
  assert.deepEqual(n.server.kernel.clusterNodes(), ['node1']);
  // A cluster of this node alone is the same list as standalone: nothing to announce.
  const alone = new FakeManager('node1');
  alone.nodes = ['node1'];
  await ctx.installCluster(alone, new FakeTable());
  assert.deepEqual(n.nodeChanges, [['node1', 'node2'], ['node1', 'node2', 'node3'], ['node1']]);
});
