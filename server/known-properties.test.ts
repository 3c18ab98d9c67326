import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { componentPropertyDefinitions, defineKnownProperties } from './known-properties.ts';
import { Logger } from './log.ts';
import { defineCoreProperties } from './properties/core-properties.ts';
import { PropertyRegistry } from './properties/property-registry.ts';
import type { PropertyDefinition } from './properties/types.ts';
import type { PropertyRepository } from './storage/types.ts';

/** Definitions are checked without a database: nothing here reads or writes a value. */
const registry = (): PropertyRegistry => new PropertyRegistry({} as PropertyRepository, new Logger('test'));

function known(): PropertyDefinition[] {
  const reg = registry();
  defineKnownProperties(reg);
  return reg.list().map((info) => info.definition!);
}

test('every name is owned by one component: none is defined by two', () => {
  const core = registry();
  defineCoreProperties(core);
  const names = [...core.list().map((i) => i.name), ...componentPropertyDefinitions().map((d) => d.name)];
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  assert.deepEqual(twice, []);
});

test('the catalogue holds the core, module, health and HTTP properties', () => {
  const names = known().map((d) => d.name);
  for (const name of ['xmpp.auth.max-failures', 'xmpp.roster.max-groups', 'xmpp.register.inband.window', 'xmpp.version.show-os',
    'xmpp.vcard.max-bytes', 'xmpp.blocking.max-items', 'xmpp.health.check-interval', 'xmpp.bosh.max-wait']) {
    assert.ok(names.includes(name), name);
  }
});

test('a module defining its property again gets the same handle, and its unload leaves the definition', () => {
  const reg = registry();
  defineKnownProperties(reg);
  const [definition] = componentPropertyDefinitions();
  const before = reg.get(definition!.name)!;
  reg.define(definition!);
  reg.undefine(definition!.name);
  assert.equal(reg.get(definition!.name)?.definition, before.definition);
});

test('docs/configuration.md lists every known property with its type, default and bounds', () => {
  const docs = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8').split('\n');
  for (const def of known()) {
    const row = docs.find((line) => line.startsWith(`| \`${def.name}\` |`));
    assert.ok(row, `${def.name} is missing from docs/configuration.md`);
    const [, , type, defaultValue, bounds] = row.split('|').map((cell) => cell.trim());
    assert.equal(type, def.type, `type of ${def.name}`);
    assert.equal(defaultValue?.replace(/^`(.*)`$/, '$1'), String(def.default), `default of ${def.name}`);
    const expected = def.min === undefined && def.max === undefined ? '' : `${def.min ?? ''}-${def.max ?? ''}`;
    assert.equal(bounds, expected, `bounds of ${def.name}`);
  }
});
