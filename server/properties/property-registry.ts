// The system properties of one node: definitions registered by the kernel and plugins, the
// values stored in the shared database, and a cache read synchronously by the code that
// uses them. A change made on any node reaches the others by polling a fingerprint of the
// table (no cluster needed), and each node fires the change listeners of its own code.
import type { Logger } from '../log.ts';
import type { PropertyRepository } from '../storage/types.ts';
import { checkDefinition, formatPropertyValue, parsePropertyValue, sameDefinition } from './property-value.ts';
import type { PropertyValue } from './property-value.ts';
import type { Property, PropertyDefinition } from './types.ts';

export class UnknownPropertyError extends Error {
  constructor(readonly property: string) {
    super(`unknown property '${property}'`);
    this.name = 'UnknownPropertyError';
  }
}

/** What list() and get() report about one property. */
export interface PropertyInfo {
  name: string;
  /** null for a value stored under a name nothing has defined (yet): a plugin not loaded. */
  definition: PropertyDefinition | null;
  /** Effective value: the stored one if valid, else the default (or the raw text, undefined). */
  value: PropertyValue;
  /** The text stored in the database, or null. */
  stored: string | null;
  /** True when the default applies: nothing stored, or the stored text is invalid. */
  isDefault: boolean;
  /** Why a stored value is ignored (it breaks the definition), or null. */
  problem: string | null;
}

export const DEFAULT_POLL_INTERVAL_MS = 2000;

type Listener = (value: PropertyValue) => void;

interface Entry {
  definition: PropertyDefinition;
  /** How many define() calls this definition has not yet been undefined for. */
  owners: number;
  value: PropertyValue;
  problem: string | null;
  listeners: Set<Listener>;
  handle: Property;
}

export class PropertyRegistry {
  private readonly entries = new Map<string, Entry>();
  private stored = new Map<string, string>();
  private fingerprint: string | null = null;
  /** Counts local writes, so a reload that raced with one does not undo it. */
  private writes = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private pollFailing = false;

  constructor(private readonly repo: PropertyRepository, private readonly log: Logger) {}

  /**
   * Registers a property and returns its live handle. Defining the same thing again is
   * harmless and returns the same handle: the kernel defines every property it knows at start
   * and the module that uses one defines it again in load().
   */
  define<T extends PropertyValue>(definition: PropertyDefinition<T>): Property<T> {
    const def = definition as PropertyDefinition;
    checkDefinition(def);
    const existing = this.entries.get(def.name);
    if (existing) {
      if (!sameDefinition(existing.definition, def)) throw new Error(`property ${def.name} is already defined differently`);
      existing.owners++;
      return existing.handle as Property<T>;
    }
    const listeners = new Set<Listener>();
    const entry: Entry = {
      definition: def,
      owners: 1,
      value: def.default,
      problem: null,
      listeners,
      handle: {
        definition: def,
        get value() {
          return entry.value;
        },
        onChange(listener: Listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
    };
    this.entries.set(def.name, entry);
    this.refresh(entry, false);
    return entry.handle as Property<T>;
  }

  /**
   * Undoes one define() (a module or plugin unloading). The definition and its listeners go
   * with the last one, so a module unloading leaves what the kernel still defines; a stored
   * value always stays.
   */
  undefine(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    if (--entry.owners > 0) return;
    entry.listeners.clear();
    this.entries.delete(name);
  }

  get(name: string): PropertyInfo | undefined {
    const entry = this.entries.get(name);
    const stored = this.stored.get(name) ?? null;
    if (entry) {
      return { name, definition: entry.definition, value: entry.value, stored, isDefault: stored === null || entry.problem !== null, problem: entry.problem };
    }
    return stored === null ? undefined : { name, definition: null, value: stored, stored, isDefault: false, problem: null };
  }

  /** Every defined property and every stored one, by name. */
  list(): PropertyInfo[] {
    const names = new Set([...this.entries.keys(), ...this.stored.keys()]);
    return [...names].sort().map((name) => this.get(name)!);
  }

  /**
   * Checks and stores a value, then applies it here at once (other nodes follow by polling).
   * An undefined name is refused unless `force`, so that a typo is not stored silently.
   */
  async set(name: string, raw: string, options: { force?: boolean } = {}): Promise<PropertyInfo> {
    const entry = this.entries.get(name);
    if (!entry && !options.force) throw new UnknownPropertyError(name);
    const text = entry ? formatPropertyValue(parsePropertyValue(entry.definition, raw)) : raw;
    this.writes++;
    await this.repo.set(name, text);
    this.stored.set(name, text);
    if (entry) this.refresh(entry, true);
    return this.get(name)!;
  }

  /** Removes the stored value so the default applies again; false if nothing was stored. */
  async unset(name: string): Promise<boolean> {
    this.writes++;
    const removed = await this.repo.unset(name);
    this.stored.delete(name);
    const entry = this.entries.get(name);
    if (entry) this.refresh(entry, true);
    return removed;
  }

  /** Reads every stored value; call once at start, before the values are used. */
  async load(): Promise<void> {
    for (;;) {
      const writes = this.writes;
      // The fingerprint is read first: a change landing between the two reads shows up
      // as a new fingerprint at the next poll, never as a missed change.
      const fingerprint = await this.repo.fingerprint();
      const rows = await this.repo.all();
      if (writes !== this.writes) continue; // a local write raced this read: read again
      this.fingerprint = fingerprint;
      this.stored = new Map(rows.map((r) => [r.name, r.value]));
      for (const entry of this.entries.values()) this.refresh(entry, true);
      return;
    }
  }

  /** Polls the database for changes made by other nodes (or another process, like the CLI). */
  startPolling(intervalMs = DEFAULT_POLL_INTERVAL_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = null;
      });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops polling; resolves once a poll in progress has finished. */
  async stopPolling(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  private async poll(): Promise<void> {
    try {
      const fingerprint = await this.repo.fingerprint();
      if (fingerprint !== this.fingerprint) await this.load();
      if (this.pollFailing) this.log.info('property polling recovered');
      this.pollFailing = false;
    } catch (err) {
      // The database may be briefly away; say so once, keep the cached values, keep trying.
      if (!this.pollFailing) this.log.warn('cannot poll properties; keeping cached values', { err });
      this.pollFailing = true;
    }
  }

  /** Recomputes one property from the stored text and tells its listeners if it changed. */
  private refresh(entry: Entry, notify: boolean): void {
    const { definition: def } = entry;
    const raw = this.stored.get(def.name);
    let value: PropertyValue = def.default;
    let problem: string | null = null;
    if (raw !== undefined) {
      try {
        value = parsePropertyValue(def, raw);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    if (problem !== null && problem !== entry.problem) {
      this.log.warn('stored property value is invalid; using the default', { property: def.name, stored: raw, reason: problem, default: def.default });
    }
    entry.problem = problem;
    if (value === entry.value) return;
    entry.value = value;
    if (!notify) return;
    for (const listener of [...entry.listeners]) {
      try {
        listener(value);
      } catch (err) {
        this.log.error('property change listener failed', { property: def.name, err });
      }
    }
  }
}
