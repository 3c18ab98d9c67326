// Loads the built-in modules in their listed order, each through its own context, checking
// that what a module depends on was loaded before it, and keeps what each load() returned
// for the modules that depend on it. Unloading goes in reverse order.
import { ModuleContext, type ModuleServices, type XmppModule } from './module-context.ts';

export class ModuleLoader {
  private readonly loaded: { mod: XmppModule; ctx: ModuleContext; api: unknown }[] = [];

  constructor(private readonly services: Omit<ModuleServices, 'apiOf'>) {}

  /** What a loaded module's load() returned (undefined if it is not loaded). */
  apiOf(name: string): unknown {
    return this.loaded.find((l) => l.mod.name === name)?.api;
  }

  /** The context of a loaded module (for tests of what it registered). */
  contextOf(name: string): ModuleContext | undefined {
    return this.loaded.find((l) => l.mod.name === name)?.ctx;
  }

  async load(mod: XmppModule): Promise<void> {
    if (this.loaded.some((l) => l.mod.name === mod.name)) throw new Error(`module ${mod.name} is loaded already`);
    for (const dep of mod.depends ?? []) {
      if (!this.loaded.some((l) => l.mod.name === dep)) throw new Error(`module ${mod.name} depends on ${dep}, which must be loaded before it`);
    }
    const ctx = new ModuleContext(mod, { ...this.services, apiOf: (name) => this.apiOf(name) });
    try {
      const api = await mod.load(ctx);
      this.loaded.push({ mod, ctx, api: api ?? {} });
    } catch (err) {
      await ctx.unload();
      throw err;
    }
  }

  /** Unloads one module; refused while a loaded module depends on it. */
  async unload(name: string): Promise<void> {
    const i = this.loaded.findIndex((l) => l.mod.name === name);
    if (i === -1) return;
    const dependant = this.loaded.find((l) => l.mod.depends?.includes(name));
    if (dependant) throw new Error(`module ${name} cannot be unloaded while ${dependant.mod.name} depends on it`);
    const [entry] = this.loaded.splice(i, 1);
    await entry!.ctx.unload();
  }

  /** Unloads every module, last loaded first. */
  async unloadAll(): Promise<void> {
    while (this.loaded.length) await this.unload(this.loaded[this.loaded.length - 1]!.mod.name);
  }
}
