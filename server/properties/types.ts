// System properties: typed settings stored in the database (shared by every node of a
// cluster), cached in each node, with change events that live properties act on at once.

/**
 * The list types hold text, checked entry by entry (list-values.ts): `jid-list` accounts
 * (bare JIDs or user names), `cidr-list` IP addresses and CIDR ranges, `origin-list` web
 * origins or `*`, `uri-list` absolute URIs (mailto:, xmpp:, https: ...).
 */
export type PropertyType = 'string' | 'integer' | 'boolean' | 'duration' | 'jid-list' | 'cidr-list' | 'origin-list' | 'uri-list';

export const PROPERTY_TYPES: readonly PropertyType[] = ['string', 'integer', 'boolean', 'duration', 'jid-list', 'cidr-list', 'origin-list', 'uri-list'];

export interface PropertyDefinition<T extends string | number | boolean = string | number | boolean> {
  /** Dotted name, e.g. `xmpp.offline.max-per-user`. */
  name: string;
  type: PropertyType;
  default: T;
  /** Bounds for integer and duration (seconds) properties. */
  min?: number;
  max?: number;
  /** Allowed values for string properties, when the set is closed. */
  choices?: readonly string[];
  description: string;
  /** True if a change takes effect at once; false if it needs a restart. */
  live: boolean;
}

export interface Property<T extends string | number | boolean = string | number | boolean> {
  readonly definition: PropertyDefinition<T>;
  /** Current effective value (stored value, or the default). Cheap: read from the cache. */
  readonly value: T;
  /** Called with the new value after any change, local or made by another node. */
  onChange(listener: (value: T) => void): () => void;
}

export class PropertyValueError extends Error {
  constructor(readonly property: string, reason: string) {
    super(`property ${property}: ${reason}`);
    this.name = 'PropertyValueError';
  }
}
