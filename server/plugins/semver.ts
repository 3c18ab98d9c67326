// Plugin and server versions: semantic versions (MAJOR.MINOR.PATCH, an optional -prerelease)
// and the few range forms plugin.json needs for dependencies. Small on purpose: a manifest
// written against npm's full grammar is refused with a message, not half understood.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated identifiers after '-', empty for a release. */
  prerelease: string[];
}

const VERSION = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseVersion(text: string): Version | null {
  const m = VERSION.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ? m[4].split('.') : [] };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an !== bn) return an ? -1 : 1; // numeric identifiers sort before alphanumeric ones
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative, zero or positive as a is older than, equal to or newer than b (SemVer 2.0 precedence). */
export function compareVersions(a: Version, b: Version): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return Math.sign(d);
  // A prerelease comes before its release: 1.0.0-beta < 1.0.0.
  if (!a.prerelease.length || !b.prerelease.length) return Math.sign(b.prerelease.length - a.prerelease.length);
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const c = compareIdentifiers(a.prerelease[i]!, b.prerelease[i]!);
    if (c !== 0) return c;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`;
}

type Comparator = { op: '>=' | '>' | '<=' | '<' | '='; version: Version };

/** A dependency range: comparators that must all hold. */
export interface VersionRange {
  text: string;
  comparators: Comparator[];
}

const RANGE_FORMS = '"*", "1.2.3", ">=1.2.3", "^1.2.3", "~1.2.3", or comparators joined by spaces (">=1.2.0 <2.0.0")';

/** Parses a range; throws an Error saying which forms are understood. */
export function parseRange(text: string): VersionRange {
  const trimmed = text.trim();
  const comparators: Comparator[] = [];
  if (trimmed !== '*' && trimmed !== '') {
    for (const part of trimmed.split(/\s+/)) {
      const m = /^(\^|~|>=|<=|>|<|=)?(.+)$/.exec(part)!;
      const v = parseVersion(m[2]!);
      if (!v) throw new Error(`version range ${JSON.stringify(text)}: ${JSON.stringify(m[2])} is not a version; use ${RANGE_FORMS}`);
      const sign = m[1] ?? '=';
      if (sign === '^' || sign === '~') {
        // ^1.2.3 allows what a compatible release may change; ^0.2.3 only patches (npm's rule).
        const upper: Version = sign === '~' || v.major === 0
          ? { major: v.major, minor: v.minor + 1, patch: 0, prerelease: ['0'] }
          : { major: v.major + 1, minor: 0, patch: 0, prerelease: ['0'] };
        comparators.push({ op: '>=', version: v }, { op: '<', version: upper });
      } else {
        comparators.push({ op: sign as Comparator['op'], version: v });
      }
    }
  }
  return { text: trimmed || '*', comparators };
}

export function satisfies(version: Version, range: VersionRange): boolean {
  return range.comparators.every(({ op, version: bound }) => {
    const c = compareVersions(version, bound);
    switch (op) {
      case '>=': return c >= 0;
      case '>': return c > 0;
      case '<=': return c <= 0;
      case '<': return c < 0;
      case '=': return c === 0;
    }
  });
}
