// Named events with priorities, in the manner of Prosody's module:hook(). The router turns
// each stanza into one event name (see routing/event-names.ts); a handler that returns true
// has taken the event and lower-priority handlers are not called.

export type Handler<P> = (payload: P) => boolean | void;

interface Entry {
  handler: Handler<unknown>;
  priority: number;
}

export class EventBus {
  private readonly handlers = new Map<string, Entry[]>();

  /** Registers a handler; higher priority runs first. Returns the function that removes it. */
  on<P>(name: string, handler: Handler<P>, priority = 0): () => void {
    const entry: Entry = { handler: handler as Handler<unknown>, priority };
    const list = this.handlers.get(name) ?? [];
    // Copy on write so a fire() in progress keeps iterating over a stable array.
    const next = [...list, entry].sort((a, b) => b.priority - a.priority);
    this.handlers.set(name, next);
    return () => {
      const current = this.handlers.get(name);
      if (!current) return;
      const rest = current.filter((e) => e !== entry);
      if (rest.length) this.handlers.set(name, rest);
      else this.handlers.delete(name);
    };
  }

  /** Calls handlers in priority order until one returns true; returns whether one did. */
  fire<P>(name: string, payload: P): boolean {
    const list = this.handlers.get(name);
    if (!list) return false;
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.handler(payload) === true) return true;
    }
    return false;
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  /** Handlers registered, over every event (tests check that unloading removes them all). */
  get size(): number {
    let n = 0;
    for (const list of this.handlers.values()) n += list.length;
    return n;
  }
}
