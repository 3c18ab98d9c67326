// How a property's stored text becomes a typed value, and the checks a definition itself
// must pass. Values are stored as text in canonical form (integers without leading zeros,
// durations as whole seconds, booleans as true/false), so every node reads the same thing.
import { isListType, ListEntryError, parseList } from './list-values.ts';
import { PropertyValueError } from './types.ts';
import type { PropertyDefinition } from './types.ts';

export type PropertyValue = string | number | boolean;

const NAME = /^[a-z0-9]+([.-][a-z0-9]+)*$/;

/** Parses and checks `raw` against the definition; throws PropertyValueError saying what is wrong. */
export function parsePropertyValue(def: PropertyDefinition, raw: string): PropertyValue {
  const fail = (reason: string): never => {
    throw new PropertyValueError(def.name, reason);
  };
  switch (def.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return fail(`${JSON.stringify(raw)} is not true or false`);
    case 'integer':
    case 'duration': {
      const what = def.type === 'duration' ? 'a whole number of seconds' : 'an integer';
      const n = /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return fail(`${JSON.stringify(raw)} is not ${what}`);
      const min = def.min ?? (def.type === 'duration' ? 0 : undefined);
      if (min !== undefined && n < min) return fail(`${n} is below the minimum ${min}`);
      if (def.max !== undefined && n > def.max) return fail(`${n} is above the maximum ${def.max}`);
      return n;
    }
    case 'string':
      if (def.choices && !def.choices.includes(raw)) return fail(`${JSON.stringify(raw)} is not one of ${def.choices.join(', ')}`);
      return raw;
    case 'jid-list':
    case 'cidr-list':
    case 'origin-list':
    case 'uri-list':
      try {
        return parseList(def.type, raw);
      } catch (err) {
        if (err instanceof ListEntryError) return fail(err.message);
        throw err;
      }
  }
}

/** The stored text of a value. */
export function formatPropertyValue(value: PropertyValue): string {
  return String(value);
}

/** Throws if the definition contradicts itself; these are programming errors, caught at define time. */
export function checkDefinition(def: PropertyDefinition): void {
  const bad = (reason: string): never => {
    throw new Error(`invalid definition of property ${def.name}: ${reason}`);
  };
  if (!NAME.test(def.name)) bad('names are lower-case words separated by "." or "-"');
  const expected = def.type === 'integer' || def.type === 'duration' ? 'number' : isListType(def.type) ? 'string' : def.type;
  if (typeof def.default !== expected) bad(`default ${JSON.stringify(def.default)} is not a ${def.type}`);
  if ((def.min !== undefined || def.max !== undefined) && expected !== 'number') bad('only integer and duration properties have bounds');
  if (def.min !== undefined && def.max !== undefined && def.min > def.max) bad(`minimum ${def.min} is above maximum ${def.max}`);
  if (def.choices && def.type !== 'string') bad('only string properties have choices');
  let canonical: PropertyValue | undefined;
  try {
    canonical = parsePropertyValue(def, formatPropertyValue(def.default));
  } catch (err) {
    bad(`default does not pass its own checks (${(err as Error).message})`);
  }
  // Else the default would read differently from the same value stored.
  if (canonical !== def.default) bad(`default ${JSON.stringify(def.default)} is not in canonical form (${JSON.stringify(canonical)})`);
}

export function sameDefinition(a: PropertyDefinition, b: PropertyDefinition): boolean {
  return a.name === b.name && a.type === b.type && a.default === b.default && a.min === b.min && a.max === b.max &&
    a.description === b.description && a.live === b.live &&
    (a.choices ?? []).join('\n') === (b.choices ?? []).join('\n') && !!a.choices === !!b.choices;
}
