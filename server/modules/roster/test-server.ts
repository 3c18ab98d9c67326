// A minimal in-process server context for the unit tests of the roster and presence modules:
// the real event bus, sessions, routing table and property registry, storage faked.
import { AccountDeletions } from '../../accounts/account-deletions.ts';
import { JID } from '../../jid/jid.ts';
import { Logger } from '../../log.ts';
import { EventBus } from '../../events/event-bus.ts';
import { PropertyRegistry } from '../../properties/property-registry.ts';
import { LocalRoutingTable } from '../../routing/routing-table.ts';
import { ClientSession } from '../../session/client-session.ts';
import { SessionManager } from '../../session/session-manager.ts';
import { ServerStats } from '../../stats.ts';
import type { PropertyRepository, RosterItem, RosterRepository, Storage } from '../../storage/types.ts';
import type { Transport } from '../../transport/transport.ts';
import type { Element } from '../../xml/element.ts';
import { DiscoRegistry } from '../../extension/disco-registry.ts';
import { ModuleContext, type ModuleDeclaration, type StreamFeatureProvider } from '../../extension/module-context.ts';
import { createKernel } from '../../extension/kernel-facade.ts';
import { StandaloneClusterManager } from '../../cluster/cluster-manager.ts';
import { Router } from '../../routing/router.ts';
import { moduleServicesOf } from '../../module-services.ts';
import { ModuleMetrics } from '../../extension/module-metrics.ts';
import type { ServerContext } from '../../server-context.ts';

/** An in-memory roster repository that counts reads and can hold them back. */
export class MemoryRosterRepository implements RosterRepository {
  readonly rows = new Map<string, Map<string, RosterItem>>();
  versions = new Map<string, number>();
  reads = 0;
  /** When set, list() waits for it (to interleave a change with a load). */
  gate: Promise<void> | null = null;

  private of(username: string): Map<string, RosterItem> {
    let m = this.rows.get(username);
    if (!m) this.rows.set(username, (m = new Map()));
    return m;
  }

  async list(username: string): Promise<RosterItem[]> {
    this.reads++;
    const snapshot = [...this.of(username).values()];
    if (this.gate) await this.gate;
    return snapshot;
  }

  async get(username: string, jid: string): Promise<RosterItem | null> {
    this.reads++;
    return this.of(username).get(jid) ?? null;
  }

  async put(username: string, item: RosterItem): Promise<string> {
    this.of(username).set(item.jid, item);
    return this.bump(username);
  }

  async remove(username: string, jid: string): Promise<string> {
    this.of(username).delete(jid);
    return this.bump(username);
  }

  async writeIfVersion(username: string, expected: string, jid: string, item: RosterItem | null): Promise<string | null> {
    if (String(this.versions.get(username) ?? 0) !== expected) return null;
    if (item) this.of(username).set(jid, item);
    else this.of(username).delete(jid);
    return this.bump(username);
  }

  async version(username: string): Promise<string> {
    return String(this.versions.get(username) ?? 0);
  }

  async holders(jid: string): Promise<{ username: string; item: RosterItem }[]> {
    return [...this.rows].flatMap(([username, items]) => (items.has(jid) ? [{ username, item: items.get(jid)! }] : []));
  }

  private bump(username: string): string {
    const v = (this.versions.get(username) ?? 0) + 1;
    this.versions.set(username, v);
    return String(v);
  }
}

const unusedProperties = {} as PropertyRepository;

export function testServer(roster = new MemoryRosterRepository()): ServerContext & { roster: MemoryRosterRepository } {
  const log = new Logger('test');
  const events = new EventBus();
  const sessions = new SessionManager('node1', new LocalRoutingTable(), events, log);
  const cluster = new StandaloneClusterManager('node1');
  const router = new Router('localhost', events, sessions, cluster, log);
  // Repositories other than the roster are never called by the tests that use this.
  const storage = { roster, users: {}, offline: {}, privateXml: {}, vcards: {}, blocklist: {}, lastActivity: {}, muc: { rooms: async () => [] } } as unknown as Storage;
  const properties = new PropertyRegistry(unusedProperties, log);
  // Handlers are registered (the roster module has one) and counted; nothing deletes an account here.
  const accounts = new AccountDeletions({ storage, nodeId: 'node1', domain: 'localhost', sessions, cluster: () => cluster, properties, adminJids: null as never, log });
  return {
    kernel: createKernel({ version: '0.0.0', nodeId: 'node1', plaintextAuthAllowed: true, router, sessions, events, cluster: () => cluster, accounts }),
    accounts,
    router,
    domain: 'localhost',
    log,
    events,
    sessions,
    storage,
    roster,
    disco: new DiscoRegistry(),
    streamFeatures: new Set<StreamFeatureProvider>(),
    moduleMetrics: new ModuleMetrics(),
    properties,
  } as unknown as ServerContext & { roster: MemoryRosterRepository };
}

/** A context for one module over a test server, as the module loader would make it. */
export function contextFor(server: ServerContext, declaration: ModuleDeclaration, apiOf: (name: string) => unknown = () => undefined): ModuleContext {
  return new ModuleContext(declaration, { ...moduleServicesOf(server), apiOf });
}

/** Binds a session whose output is collected in `sent`. */
export function bindSession(server: ServerContext, full: string): ClientSession & { sent: Element[] } {
  const sent: Element[] = [];
  const transport = { kind: 'tcp', secure: false, remoteAddress: '127.0.0.1', send: (el: Element) => sent.push(el), close() {} } as unknown as Transport;
  const session = Object.assign(new ClientSession('s', JID.parse(full), transport, new ServerStats()), { sent });
  server.sessions.bind(session);
  return session;
}
