// xmppd property list|get|set|unset: the system properties stored in the database. Running
// nodes pick a change up by polling, within seconds; the CLI only writes the database.
import { defineDeclaredProperties } from '../plugins/plugin-files.ts';
import { formatPropertyValue } from '../properties/property-value.ts';
import type { PropertyInfo, PropertyRegistry } from '../properties/property-registry.ts';
import { UnknownPropertyError } from '../properties/property-registry.ts';
import { SERVER_VERSION } from '../version.ts';
import { CommandError, UsageError } from './cli-errors.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const PROPERTY_USAGE: [string, string][] = [
  ['property list', 'every property: value, default, when it applies'],
  ['property get NAME', 'print one value'],
  ['property set NAME VALUE', 'store a value (--force for a name this server does not define)'],
  ['property unset NAME', 'go back to the default'],
];

function known(registry: PropertyRegistry, name: string): PropertyInfo {
  const info = registry.get(name);
  if (!info) throw new CommandError(`unknown property '${name}'`);
  return info;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // The last column (the description) is not padded.
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
}

function describe(info: PropertyInfo): string[] {
  const def = info.definition;
  if (!def) return [info.name, info.stored ?? '', '-', '?', '(stored, not defined here: a plugin property?)'];
  const note = info.problem ? ` [stored value ${JSON.stringify(info.stored)} ignored: ${info.problem}]` : '';
  return [info.name, formatPropertyValue(info.value), formatPropertyValue(def.default), def.live ? 'live' : 'restart', def.description + note];
}

/**
 * The registry with every property the kernel knows (core, built-in modules, HTTP listener)
 * and those the installed plugins declare in plugin.json.
 */
function withProperties<T>(ctx: CommandContext, fn: (registry: PropertyRegistry) => Promise<T>): Promise<T> {
  return ctx.withProperties(async (registry, core) => {
    const options = { serverVersion: SERVER_VERSION, maxArchiveBytes: core.pluginsMaxArchiveBytes.value };
    for (const problem of await defineDeclaredProperties(registry, ctx.config().pluginsDir, options)) ctx.say(`ignoring a plugin property: ${problem}`);
    return fn(registry);
  });
}

export async function propertyCommand(ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = ctx.args;
  switch (sub) {
    case 'list': {
      expectArgs(rest, 'property list', 0);
      const rows = await withProperties(ctx, async (registry) => registry.list().map(describe));
      for (const line of table([['NAME', 'VALUE', 'DEFAULT', 'APPLIES', 'DESCRIPTION'], ...rows])) ctx.out(line);
      return;
    }
    case 'get': {
      expectArgs(rest, 'property get NAME', 1);
      const info = await withProperties(ctx, async (registry) => known(registry, rest[0]!));
      ctx.out(formatPropertyValue(info.value));
      return;
    }
    case 'set': {
      expectArgs(rest, 'property set NAME VALUE', 2);
      const [name, value] = rest as [string, string];
      const info = await ctx.change('property set', { property: name }, () => withProperties(ctx, async (registry) => {
        try {
          // A name already stored (a plugin's, set before) is not a typo: no --force needed.
          return await registry.set(name, value, { force: ctx.line.force || registry.get(name) !== undefined });
        } catch (err) {
          if (err instanceof UnknownPropertyError) {
            throw new CommandError(`unknown property '${name}' (add --force to store it anyway, e.g. for a plugin not loaded here)`);
          }
          throw err;
        }
      }), (stored) => ({ value: stored.stored ?? '' }));
      ctx.out(`${name} = ${formatPropertyValue(info.value)}`);
      if (info.definition && !info.definition.live) ctx.say(`${name} takes effect when each node restarts`);
      return;
    }
    case 'unset': {
      expectArgs(rest, 'property unset NAME', 1);
      const name = rest[0]!;
      const { removed, info } = await ctx.change('property unset', { property: name }, () => withProperties(ctx, async (registry) => {
        known(registry, name);
        const removed = await registry.unset(name);
        return { removed, info: registry.get(name) };
      }), (r) => ({ was_set: r.removed }));
      const fallback = info ? `its default ${formatPropertyValue(info.value)} applies` : 'it is gone';
      ctx.out(removed ? `${name} unset: ${fallback}` : `${name} was not set: ${fallback}`);
      return;
    }
    case undefined:
      throw new UsageError('missing property command: list, get, set or unset');
    default:
      throw new UsageError(`unknown property command '${sub}': list, get, set or unset`);
  }
}
