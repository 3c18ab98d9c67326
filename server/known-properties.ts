// Every system property the kernel knows: its own (properties/core-properties.ts), those of
// each built-in module (XmppModule.properties), of the health monitor and of the client HTTP
// listeners. The server defines them all at start, used or not (a listener switched off, a
// module unloaded), and `xmppd property` does the same without a server, so both know the
// same names, types and bounds. Plugins add theirs on top. This lives at the kernel's root so
// that properties/ does not depend on modules/ or http/.
import { HEALTH_PROPERTY_DEFINITIONS } from './health/node-health.ts';
import { HTTP_PROPERTY_DEFINITIONS } from './http/http-properties.ts';
import { BUILTIN_MODULES } from './modules/builtin.ts';
import { defineCoreProperties, type CoreProperties } from './properties/core-properties.ts';
import type { PropertyRegistry } from './properties/property-registry.ts';
import type { PropertyDefinition } from './properties/types.ts';
import { SM_PROPERTY_DEFINITIONS } from './stream/sm/sm-properties.ts';

/** The definitions beyond the core ones: built-in modules, health monitor, HTTP listeners, stream management. */
export function componentPropertyDefinitions(): PropertyDefinition[] {
  return [
    ...BUILTIN_MODULES.flatMap((mod) => mod.properties ?? []),
    ...Object.values(HEALTH_PROPERTY_DEFINITIONS),
    ...Object.values(HTTP_PROPERTY_DEFINITIONS),
    ...Object.values(SM_PROPERTY_DEFINITIONS),
  ];
}

/**
 * Defines every property the kernel knows and returns the handles of the core ones. A module
 * defining one of these again in load() gets the same handle; its unload leaves the
 * definition in place (see PropertyRegistry.undefine).
 */
export function defineKnownProperties(registry: PropertyRegistry): CoreProperties {
  const core = defineCoreProperties(registry);
  for (const definition of componentPropertyDefinitions()) registry.define(definition);
  return core;
}
