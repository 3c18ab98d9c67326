// A configuration mistake, reported in one line that names where the value came from (file
// and line, or environment variable), the key, and what was expected instead.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Thrown by a setting's parser; load-config.ts adds the origin and key to make a ConfigError. */
export class ExpectationError extends Error {
  constructor(readonly expected: string, readonly got: unknown) {
    super(`expected ${expected}, got ${describe(got)}`);
    this.name = 'ExpectationError';
  }
}

/** How a wrong value is shown: strings quoted, structures named rather than dumped. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}
