// The one registration API for modules and plugins. Every registration made through a
// context is recorded, and unload() undoes exactly those, newest first: a module or plugin
// can come and go without a restart and without leaving anything behind. What a module may
// ask of the rest of the server is the narrow Kernel (kernel.ts), the storage repositories
// it declares and the APIs of the modules it depends on; the parts behind them are held in
// private fields, so there is no way around the record.
import type { AccountDeletedHandler, AccountDeletionHandlers } from '../accounts/account-deletions.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { JID } from '../jid/jid.ts';
import type { Logger } from '../log.ts';
import type { PropertyRegistry } from '../properties/property-registry.ts';
import type { PropertyValue } from '../properties/property-value.ts';
import type { Property, PropertyDefinition } from '../properties/types.ts';
import { iqEventName, serviceEventName, type StanzaEvent } from '../routing/stanza-event.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { Storage } from '../storage/types.ts';
import { xml, type Element } from '../xml/element.ts';
import { StanzaError, errorReply } from '../xml/errors.ts';
import type { DiscoIdentity, DiscoRegistry } from './disco-registry.ts';
import type { Kernel } from './kernel.ts';
import type { ModuleMetricDefinition, ModuleMetrics } from './module-metrics.ts';

export type { DiscoIdentity };

/** The read side of the disco registry. */
export type DiscoView = Pick<DiscoRegistry, 'hostIdentities' | 'accountIdentities' | 'hostItems' | 'features' | 'revision'>;

export interface IqRequest {
  stanza: Element;
  /** The first child of the IQ: the query/payload element. */
  payload: Element;
  from: JID;
  to: JID;
  origin: ClientSession | null;
}

/**
 * An IQ handler returns the payload of the result (or nothing for an empty result), or
 * throws a StanzaError for an error reply. Anything else thrown becomes
 * internal-server-error and is logged.
 */
export type IqHandler = (req: IqRequest) => Element | void | undefined | Promise<Element | void | undefined>;

/** What a stream advertises: before authentication or after it (with bind). */
export type StreamFeatureProvider = (features: Element, session: { secure: boolean; authenticated: boolean }) => void;

/** The repositories a module may declare it uses; the kernel's own (properties, secrets) are not among them. */
export type ModuleRepositoryName = 'users' | 'roster' | 'offline' | 'privateXml' | 'vcards' | 'blocklist' | 'lastActivity' | 'pep' | 'caps' | 'archive' | 'muc';

/** What the kernel lends every context; none of it is reachable from outside the context. */
export interface ModuleServices {
  kernel: Kernel;
  /** Handlers called when an account is deleted (accounts/account-deletions.ts). */
  accountDeletions: AccountDeletionHandlers;
  events: EventBus;
  disco: DiscoRegistry;
  streamFeatures: Set<StreamFeatureProvider>;
  /** What modules and plugins publish on /metrics. */
  metrics: ModuleMetrics;
  properties: PropertyRegistry;
  storage: Storage;
  log: Logger;
  /** What a loaded module's load() returned, by module name (undefined if it is not loaded). */
  apiOf(name: string): unknown;
}

/** What a context needs to know of the module it serves. */
export interface ModuleDeclaration {
  readonly name: string;
  readonly depends?: readonly string[];
  readonly storage?: readonly ModuleRepositoryName[];
}

export class ModuleContext {
  readonly #undo: (() => unknown)[] = [];
  readonly #services: ModuleServices;
  readonly #declaration: ModuleDeclaration;
  readonly name: string;
  readonly log: Logger;
  /** The kernel's narrow facade: routing, sessions, events (kernel.ts). */
  readonly kernel: Kernel;

  constructor(declaration: ModuleDeclaration, services: ModuleServices) {
    this.#services = services;
    this.#declaration = declaration;
    this.name = declaration.name;
    this.kernel = services.kernel;
    this.log = services.log.child(declaration.name);
  }

  /** The domain this server serves (short for kernel.domain). */
  get domain(): string {
    return this.kernel.domain;
  }

  /**
   * Publishes a counter or gauge on /metrics, read at each scrape (module-metrics.ts); it goes
   * with the module. Throws for a name that is not `xmppd_...` or is taken.
   */
  metric(metric: ModuleMetricDefinition): void {
    this.#undo.push(this.#services.metrics.add(metric));
  }

  /** Hooks a named event (see routing/stanza-event.ts for stanza events). */
  hook<P>(event: string, handler: (payload: P) => boolean | void, priority = 0): void {
    this.#undo.push(this.#services.events.on(event, handler, priority));
  }

  /**
   * Handles IQs of one namespace and type. `target` is 'host' for IQs to the server,
   * 'bare' for IQs to an account (including a client's own, sent without 'to'). Of two
   * handlers of one namespace, the one of higher `priority` answers. With `accepts`, the
   * handler answers only the requests it accepts and leaves the others to the next one (a
   * module answering disco#info for its own nodes, say, and the disco module the rest).
   */
  iq(target: 'host' | 'bare', type: 'get' | 'set', xmlns: string, handler: IqHandler, priority = 0, accepts?: (payload: Element) => boolean): void {
    this.hook<StanzaEvent>(iqEventName(target, type, xmlns), (ev) => {
      const payload = ev.stanza.getChildElements()[0]!;
      if (accepts && !accepts(payload)) return false;
      this.answer(ev.stanza, () => handler({ stanza: ev.stanza, payload, from: ev.from, to: ev.to, origin: ev.origin }));
      return true;
    }, priority);
  }

  /** Runs a handler and routes its result or error reply back to the IQ's sender. */
  private answer(stanza: Element, run: () => ReturnType<IqHandler>): void {
    const { kernel } = this;
    const reply = (result: Element | void | undefined): void => {
      const iq = xml('iq', { type: 'result', id: stanza.attrs.id, from: stanza.attrs.to, to: stanza.attrs.from });
      if (result) iq.append(result);
      kernel.route(iq, kernel.domainJid);
    };
    const fail = (err: unknown): void => {
      if (err instanceof StanzaError) {
        kernel.route(errorReply(stanza, err), kernel.domainJid);
      } else {
        this.log.error('IQ handler failed', { error: err instanceof Error ? err.stack : String(err) });
        kernel.route(errorReply(stanza, new StanzaError('internal-server-error')), kernel.domainJid);
      }
    };
    try {
      const out = run();
      if (out instanceof Promise) out.then(reply, fail);
      else reply(out);
    } catch (err) {
      fail(err);
    }
  }

  /** Advertises a feature in service discovery of the server (and, with `account`, of accounts). */
  feature(xmlns: string, where: { host?: boolean; account?: boolean } = { host: true }): void {
    this.#undo.push(this.#services.disco.addFeature(xmlns, where));
  }

  /** Adds an identity to disco#info of the server, or (with `account`) of every account. */
  identity(identity: DiscoIdentity, where: { account?: boolean } = {}): void {
    this.#undo.push(this.#services.disco.addIdentity(identity, where));
  }

  /**
   * Serves a subdomain of the server (`proxy` for proxy.<domain>): every stanza sent to it or
   * to any JID at it goes to `handler`, which returns true when it took the stanza (an IQ get
   * or set it leaves is answered service-unavailable). Listed in the server's disco#items
   * under `name`. Returns the service's domain.
   */
  service(subdomain: string, name: string, handler: (ev: StanzaEvent) => boolean | void): string {
    const domain = `${subdomain}.${this.domain}`;
    this.hook(serviceEventName(domain), handler);
    this.#undo.push(this.#services.disco.addItem({ jid: domain, name }));
    return domain;
  }

  /** What service discovery lists (read-only): for the module that answers disco queries. */
  get discoView(): DiscoView {
    return this.#services.disco;
  }

  /** Adds elements to <stream:features/>. */
  streamFeature(provider: StreamFeatureProvider): void {
    const features = this.#services.streamFeatures;
    features.add(provider);
    this.#undo.push(() => features.delete(provider));
  }

  /**
   * Defines a system property owned by this module; it is undefined again at unload. A
   * built-in module also lists the definition in XmppModule.properties, so that the kernel
   * knows it without loading the module (see known-properties.ts).
   */
  property<T extends PropertyValue>(definition: PropertyDefinition<T>): Property<T> {
    const registry = this.#services.properties;
    const prop = registry.define(definition);
    this.#undo.push(() => registry.undefine(definition.name));
    return prop;
  }

  /** The current value of any defined property (another component's limit, say); read-only. */
  readProperty<T extends PropertyValue>(name: string): T {
    const info = this.#services.properties.get(name);
    if (!info?.definition) throw new Error(`${this.name} read property ${name}, which nothing defines`);
    return info.value as T;
  }

  /** Subscribes to a property's changes for the lifetime of the module. */
  watch<T extends PropertyValue>(prop: Property<T>, listener: (value: T) => void): void {
    this.#undo.push(prop.onChange(listener));
  }

  /** A storage repository the module declared in XmppModule.storage. */
  repository<K extends ModuleRepositoryName>(name: K): Storage[K] {
    if (!this.#declaration.storage?.includes(name)) {
      throw new Error(`${this.name} uses the ${name} repository without declaring it (storage: ['${name}'])`);
    }
    return this.#services.storage[name];
  }

  /** What a module named in XmppModule.depends returned from its load(). */
  dependency<T>(name: string): T {
    if (!this.#declaration.depends?.includes(name)) {
      throw new Error(`${this.name} uses module ${name} without declaring it (depends: ['${name}'])`);
    }
    const api = this.#services.apiOf(name);
    if (api === undefined) throw new Error(`${this.name} depends on module ${name}, which is not loaded`);
    return api as T;
  }

  /** setInterval, cleared at unload; the timer does not keep the process alive. */
  every(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.#undo.push(() => clearInterval(timer));
    return timer;
  }

  /** setTimeout, cleared at unload if it has not run; it does not keep the process alive. */
  after(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(fn, ms);
    timer.unref();
    this.#undo.push(() => clearTimeout(timer));
    return timer;
  }

  /**
   * Calls `handler(username)` when an account is deleted, however it was deleted (in-band,
   * the admin API, `xmppd user del`), to remove what this module or plugin keeps for it in
   * its own tables: a new account of the same name must find none of it. Called once, on
   * one node, after the kernel's own rows are gone and while the account's sessions end; it
   * may be async (up to 30 seconds), and a throw is logged. Per-node memory of the account
   * should hang on its sessions, which end on every node.
   */
  onAccountDeleted(handler: AccountDeletedHandler): void {
    this.#undo.push(this.#services.accountDeletions.add(this.name, handler));
  }

  /** Runs a function at unload (sockets, anything not registered above); it may be async. */
  onUnload(fn: () => void | Promise<void>): void {
    this.#undo.push(fn);
  }

  /**
   * Undoes every registration, newest first, waiting for asynchronous steps (a plugin closing
   * its connections). Steps that return nothing run synchronously, before this returns.
   * Safe to call twice.
   */
  async unload(): Promise<void> {
    while (this.#undo.length) {
      const fn = this.#undo.pop()!;
      try {
        const done: unknown = fn();
        // Only a promise is waited for: an undo function may return anything (Set.delete's true).
        if (done instanceof Promise) await done;
      } catch (err) {
        this.log.warn('unload step failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}

/** A built-in module or the entry of a plugin. */
export interface XmppModule extends ModuleDeclaration {
  /**
   * The system properties load() defines, as data: `xmppd property` and the admin API know
   * them, with their types and bounds, whether or not the module is loaded.
   */
  readonly properties?: readonly PropertyDefinition[];
  /** Modules whose APIs this one uses (ctx.dependency); they are loaded first. */
  readonly depends?: readonly string[];
  /** Storage repositories this module reads or writes (ctx.repository). */
  readonly storage?: readonly ModuleRepositoryName[];
  /** Registers everything through ctx; may return an API for the modules that depend on this one. */
  load(ctx: ModuleContext): unknown;
}
