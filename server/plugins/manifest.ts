// plugin.json: what a plugin says about itself. Checked strictly before any of its code
// runs (unknown keys included, as in the configuration file: a misspelt minServerVersion
// must not be silently ignored), and every refusal says what was expected.
import { posix } from 'node:path';
import { checkDefinition } from '../properties/property-value.ts';
import { PROPERTY_TYPES, type PropertyDefinition, type PropertyType } from '../properties/types.ts';
import { compareVersions, parseRange, parseVersion, type VersionRange } from './semver.ts';

export const MANIFEST_FILE = 'plugin.json';

/** `cluster` marks a clustering plugin, of which at most one may be loaded. */
export type PluginKind = 'feature' | 'cluster';

export interface PluginManifest {
  name: string;
  version: string;
  description: string;
  author: string;
  /** Oldest server version the plugin works with, or null. */
  minServerVersion: string | null;
  /** First server version the plugin no longer works with, or null. */
  priorToServerVersion: string | null;
  /** Plugin name -> version range; loaded before this plugin. */
  dependencies: Record<string, string>;
  kind: PluginKind;
  /** Entry module, relative to the plugin folder. */
  main: string;
  /** Folder of the plugin's own migrations (see storage/migrator.ts), or null. */
  migrations: string | null;
  /** System properties defined while the plugin is loaded, known to `xmppd property` too. */
  properties: PropertyDefinition[];
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const NAME = /^[a-z][a-z0-9-]{0,47}$/;
/** Names the kernel uses for itself (migration components, the API package). */
const RESERVED = new Set(['core', 'xmppd']);
const KEYS = ['name', 'version', 'description', 'author', 'minServerVersion', 'priorToServerVersion', 'dependencies', 'kind', 'main', 'migrations', 'properties'];
const PROPERTY_KEYS = ['name', 'type', 'default', 'min', 'max', 'choices', 'description', 'live'];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(m: Json, key: string): string | null {
  const v = m[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new ManifestError(`${key} must be a string`);
  return v;
}

function versionField(m: Json, key: string): string | null {
  const v = optionalString(m, key);
  if (v !== null && !parseVersion(v)) throw new ManifestError(`${key} ${JSON.stringify(v)} is not a version like 1.2.3`);
  return v;
}

/** A relative path inside the plugin folder, in canonical form. */
function innerPath(key: string, value: string): string {
  const normal = posix.normalize(value);
  if (value.includes('\\') || posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../') || normal === '.') {
    throw new ManifestError(`${key} ${JSON.stringify(value)} must be a relative path inside the plugin folder`);
  }
  return normal.replace(/\/$/, '');
}

function propertyDefinition(raw: unknown, index: number): PropertyDefinition {
  const where = `properties[${index}]`;
  if (!isObject(raw)) throw new ManifestError(`${where} must be an object`);
  const unknown = Object.keys(raw).filter((k) => !PROPERTY_KEYS.includes(k));
  if (unknown.length) throw new ManifestError(`${where}: unknown key ${unknown.join(', ')} (known: ${PROPERTY_KEYS.join(', ')})`);
  if (typeof raw.name !== 'string') throw new ManifestError(`${where}.name must be a string`);
  if (!PROPERTY_TYPES.includes(raw.type as PropertyType)) throw new ManifestError(`${where}.type must be one of ${PROPERTY_TYPES.join(', ')}`);
  if (typeof raw.description !== 'string' || !raw.description) throw new ManifestError(`${where}.description must be a non-empty string`);
  if (typeof raw.live !== 'boolean') throw new ManifestError(`${where}.live must be true (applies at once) or false (at restart)`);
  for (const k of ['min', 'max'] as const) {
    if (raw[k] !== undefined && !Number.isSafeInteger(raw[k])) throw new ManifestError(`${where}.${k} must be an integer`);
  }
  if (raw.choices !== undefined && !(Array.isArray(raw.choices) && raw.choices.every((c) => typeof c === 'string'))) {
    throw new ManifestError(`${where}.choices must be a list of strings`);
  }
  const def = {
    name: raw.name,
    type: raw.type as PropertyType,
    default: raw.default as string | number | boolean,
    description: raw.description,
    live: raw.live,
    ...(raw.min !== undefined ? { min: raw.min as number } : {}),
    ...(raw.max !== undefined ? { max: raw.max as number } : {}),
    ...(raw.choices !== undefined ? { choices: raw.choices as string[] } : {}),
  };
  try {
    checkDefinition(def);
  } catch (err) {
    throw new ManifestError(`${where}: ${(err as Error).message}`);
  }
  return def;
}

/** Checks a parsed plugin.json; throws ManifestError naming the first problem. */
export function parseManifest(raw: unknown): PluginManifest {
  if (!isObject(raw)) throw new ManifestError(`${MANIFEST_FILE} must hold a JSON object`);
  const unknown = Object.keys(raw).filter((k) => !KEYS.includes(k));
  if (unknown.length) throw new ManifestError(`unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${KEYS.join(', ')})`);

  const name = raw.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ManifestError(`name ${JSON.stringify(name)} must be 1-48 lower-case letters, digits or "-", starting with a letter`);
  }
  if (RESERVED.has(name)) throw new ManifestError(`name "${name}" is reserved`);
  const version = versionField(raw, 'version');
  if (version === null) throw new ManifestError('version is required (like 1.0.0)');

  const kind = raw.kind ?? 'feature';
  if (kind !== 'feature' && kind !== 'cluster') throw new ManifestError(`kind ${JSON.stringify(kind)} must be "feature" or "cluster"`);

  const dependencies: Record<string, string> = {};
  if (raw.dependencies !== undefined) {
    if (!isObject(raw.dependencies)) throw new ManifestError('dependencies must be an object: { "plugin-name": "version range" }');
    for (const [dep, range] of Object.entries(raw.dependencies)) {
      if (!NAME.test(dep)) throw new ManifestError(`dependency ${JSON.stringify(dep)} is not a plugin name`);
      if (dep === name) throw new ManifestError('a plugin cannot depend on itself');
      if (typeof range !== 'string') throw new ManifestError(`dependencies.${dep} must be a version range string`);
      try {
        parseRange(range);
      } catch (err) {
        throw new ManifestError(`dependencies.${dep}: ${(err as Error).message}`);
      }
      dependencies[dep] = range;
    }
  }

  const main = innerPath('main', optionalString(raw, 'main') ?? 'index.js');
  if (!/\.m?js$/.test(main)) throw new ManifestError(`main ${JSON.stringify(main)} must be a compiled JavaScript module (.js or .mjs)`);
  const migrationsDir = optionalString(raw, 'migrations');

  if (raw.properties !== undefined && !Array.isArray(raw.properties)) throw new ManifestError('properties must be a list');
  const properties = ((raw.properties as unknown[] | undefined) ?? []).map(propertyDefinition);
  const seen = new Set<string>();
  for (const p of properties) {
    if (seen.has(p.name)) throw new ManifestError(`property ${p.name} is declared twice`);
    seen.add(p.name);
  }

  return {
    name,
    version,
    description: optionalString(raw, 'description') ?? '',
    author: optionalString(raw, 'author') ?? '',
    minServerVersion: versionField(raw, 'minServerVersion'),
    priorToServerVersion: versionField(raw, 'priorToServerVersion'),
    dependencies,
    kind,
    main,
    migrations: migrationsDir === null ? null : innerPath('migrations', migrationsDir),
    properties,
  };
}

/** Parses the text of plugin.json. */
export function parseManifestText(text: string): PluginManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${MANIFEST_FILE} is not valid JSON: ${(err as Error).message}`);
  }
  return parseManifest(raw);
}

/** Why this server cannot run the plugin, or null if it can. */
export function serverVersionProblem(manifest: PluginManifest, serverVersion: string): string | null {
  const server = parseVersion(serverVersion);
  if (!server) return null; // a development build with an odd version: let it try
  if (manifest.minServerVersion && compareVersions(server, parseVersion(manifest.minServerVersion)!) < 0) {
    return `needs server version ${manifest.minServerVersion} or later; this server is ${serverVersion}`;
  }
  if (manifest.priorToServerVersion && compareVersions(server, parseVersion(manifest.priorToServerVersion)!) >= 0) {
    return `works only with server versions before ${manifest.priorToServerVersion}; this server is ${serverVersion}`;
  }
  return null;
}

/** The dependency ranges, parsed (parseManifest has checked them). */
export function dependencyRanges(manifest: PluginManifest): [string, VersionRange][] {
  return Object.entries(manifest.dependencies).map(([name, range]) => [name, parseRange(range)]);
}
