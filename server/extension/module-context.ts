// The one registration API for modules and plugins. Every registration made through a
// context is recorded, and unload() undoes exactly those, newest first: a module or plugin
// can come and go without a restart and without leaving anything behind.
import type { JID } from '../jid/jid.ts';
import type { Logger } from '../log.ts';
import type { Property, PropertyDefinition } from '../properties/types.ts';
import { iqEventName, type StanzaEvent } from '../routing/stanza-event.ts';
import type { ClientSession } from '../session/client-session.ts';
import { xml, type Element } from '../xml/element.ts';
import { StanzaError, errorReply } from '../xml/errors.ts';
import type { ServerContext } from '../server-context.ts';

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

export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
}

/** What a stream advertises: before authentication or after it (with bind). */
export type StreamFeatureProvider = (features: Element, session: { secure: boolean; authenticated: boolean }) => void;

export class ModuleContext {
  private readonly undo: (() => unknown)[] = [];
  readonly log: Logger;

  constructor(
    readonly name: string,
    readonly server: ServerContext,
  ) {
    this.log = server.log.child(name);
  }

  /** Hooks a named event (see routing/stanza-event.ts for stanza events). */
  hook<P>(event: string, handler: (payload: P) => boolean | void, priority = 0): void {
    this.undo.push(this.server.events.on(event, handler, priority));
  }

  /**
   * Handles IQs of one namespace and type. `target` is 'host' for IQs to the server,
   * 'bare' for IQs to an account (including a client's own, sent without 'to').
   */
  iq(target: 'host' | 'bare', type: 'get' | 'set', xmlns: string, handler: IqHandler): void {
    this.hook<StanzaEvent>(iqEventName(target, type, xmlns), (ev) => {
      const payload = ev.stanza.getChildElements()[0]!;
      this.answer(ev.stanza, () => handler({ stanza: ev.stanza, payload, from: ev.from, to: ev.to, origin: ev.origin }));
      return true;
    });
  }

  /** Runs a handler and routes its result or error reply back to the IQ's sender. */
  private answer(stanza: Element, run: () => ReturnType<IqHandler>): void {
    const reply = (result: Element | void | undefined): void => {
      const iq = xml('iq', { type: 'result', id: stanza.attrs.id, from: stanza.attrs.to, to: stanza.attrs.from });
      if (result) iq.append(result);
      this.server.router.route(iq, this.server.router.domainJid);
    };
    const fail = (err: unknown): void => {
      if (err instanceof StanzaError) {
        this.server.router.route(errorReply(stanza, err), this.server.router.domainJid);
      } else {
        this.log.error('IQ handler failed', { error: err instanceof Error ? err.stack : String(err) });
        this.server.router.route(errorReply(stanza, new StanzaError('internal-server-error')), this.server.router.domainJid);
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
    this.undo.push(this.server.disco.addFeature(xmlns, where));
  }

  identity(identity: DiscoIdentity): void {
    this.undo.push(this.server.disco.addIdentity(identity));
  }

  /** Adds elements to <stream:features/>. */
  streamFeature(provider: StreamFeatureProvider): void {
    this.server.streamFeatures.add(provider);
    this.undo.push(() => this.server.streamFeatures.delete(provider));
  }

  /**
   * Defines a system property owned by this module; it is undefined again at unload. A
   * built-in module also lists the definition in XmppModule.properties, so that the kernel
   * knows it without loading the module (see known-properties.ts).
   */
  property<T extends string | number | boolean>(definition: PropertyDefinition<T>): Property<T> {
    const prop = this.server.properties.define(definition);
    this.undo.push(() => this.server.properties.undefine(definition.name));
    return prop;
  }

  /** Subscribes to a property's changes for the lifetime of the module. */
  watch<T extends string | number | boolean>(prop: Property<T>, listener: (value: T) => void): void {
    this.undo.push(prop.onChange(listener));
  }

  /** Runs a function at unload (timers, sockets, anything not registered above); it may be async. */
  onUnload(fn: () => void | Promise<void>): void {
    this.undo.push(fn);
  }

  /**
   * Undoes every registration, newest first, waiting for asynchronous steps (a plugin closing
   * its connections). Steps that return nothing run synchronously, before this returns.
   * Safe to call twice.
   */
  async unload(): Promise<void> {
    while (this.undo.length) {
      const fn = this.undo.pop()!;
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
export interface XmppModule {
  readonly name: string;
  /**
   * The system properties load() defines, as data: `xmppd property` and the admin API know
   * them, with their types and bounds, whether or not the module is loaded.
   */
  readonly properties?: readonly PropertyDefinition[];
  load(ctx: ModuleContext): void | Promise<void>;
}
