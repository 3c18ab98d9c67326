// Reads conf/xmppd.yml (or the file given), applies XMPPD_* environment overrides and returns
// a checked ServerConfig. Every mistake becomes one ConfigError line naming the file and line
// (or the environment variable), the key and what was expected.
//
// Relative paths (data_dir, plugins_dir, tls.*, sqlite:PATH) are resolved against the
// installation root, the folder holding bin/ and conf/, never the working directory: an
// `xmppd user add` run from another folder must open the same database as the server.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { ConfigError, ExpectationError } from './config-error.ts';
import { SECTIONS, SETTINGS } from './settings.ts';
import type { Setting } from './settings.ts';
import type { DatabaseConfig, ListenerConfig, LogLevel, ServerConfig } from './types.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_CONFIG_FILE = join(PROJECT_ROOT, 'conf', 'xmppd.yml');
/** Names the configuration file when no `file` option (no --config) is given. */
export const CONFIG_ENV = 'XMPPD_CONFIG';

export interface LoadConfigOptions {
  /** Path of the YAML file, relative to the working directory; null for built-in defaults only. */
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Base of relative paths in the configuration (default: the installation root). */
  root?: string;
}

/** Where a raw value came from, to say so when it is wrong. */
interface Origin {
  where: string;
}

interface RawValue {
  value: unknown;
  origin: Origin;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function fail(origin: Origin, key: string, reason: string): never {
  throw new ConfigError(`${origin.where}: ${key}: ${reason}`);
}

/** Edits (insert, delete, substitute, swap two neighbours) turning a into b. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** A known key the unknown one is probably a misspelling of, compared whole or by last part. */
function suggestion(key: string): string {
  const leaf = key.split('.').at(-1)!;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const known of [...SETTINGS.map((s) => s.key), ...SECTIONS]) {
    const knownLeaf = known.split('.').at(-1)!;
    for (const [a, b] of [[key, known], [leaf, knownLeaf]] as const) {
      const d = editDistance(a, b);
      // Near misses only: a short word is "near" almost anything else that is short.
      if (d <= 2 && d * 3 <= a.length && d < bestDistance) [best, bestDistance] = [known, d];
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** Parses the file and collects its settings by dotted key, refusing unknown keys. */
function readFile(file: string): Map<string, RawValue> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${shown}: cannot read the configuration file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    throw new ConfigError(`${shown}:${line}:${col}: YAML syntax error: ${syntax.message.split('\n')[0]}`);
  }
  const at = (node: YamlNode | null | undefined): Origin =>
    ({ where: node?.range ? `${shown}:${lines.linePos(node.range[0]).line}` : shown });

  const values = new Map<string, RawValue>();
  const walk = (map: YamlNode | null, prefix: string): void => {
    // An empty section (`tls:` alone) keeps its defaults.
    if (map === null || (isScalar(map) && map.value === null)) return;
    if (!isMap(map)) {
      if (prefix) fail(at(map), prefix, `expected a mapping of settings, got ${isScalar(map) ? JSON.stringify(map.value) : 'a list'}`);
      throw new ConfigError(`${shown}: expected a mapping of settings at the top level`);
    }
    for (const pair of map.items) {
      const keyNode = pair.key as YamlNode | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const key = prefix ? `${prefix}.${name}` : name;
      const valueNode = pair.value as YamlNode | null;
      if (SECTIONS.has(key)) walk(valueNode, key);
      else if (SETTINGS.some((s) => s.key === key)) {
        values.set(key, { value: valueNode ? valueNode.toJS(doc) : null, origin: at(valueNode ?? keyNode) });
      } else fail(at(keyNode), key, `unknown key${suggestion(key)}`);
    }
  };
  walk((doc.contents as YamlNode | null) ?? null, '');
  return values;
}

function chooseFile(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | null {
  if (options.file === null) return null;
  const explicit = options.file ?? (env[CONFIG_ENV]?.trim() || undefined);
  if (explicit !== undefined) return resolve(explicit);
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null;
}

export function loadConfig(options: LoadConfigOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const root = options.root ?? PROJECT_ROOT;
  const file = chooseFile(options, env);
  const fromFile = file ? readFile(file) : new Map<string, RawValue>();

  const values = new Map<string, unknown>();
  const origins = new Map<string, Origin>();
  for (const setting of SETTINGS) {
    // Precedence: environment, then file, then built-in default. An empty environment
    // variable counts as unset, as container tools often define them empty.
    const fromEnv = env[setting.env];
    const raw: RawValue | undefined = fromEnv !== undefined && fromEnv.trim() !== ''
      ? { value: fromEnv, origin: { where: `environment variable ${setting.env}` } }
      : fromFile.get(setting.key);
    origins.set(setting.key, raw?.origin ?? { where: 'built-in default' });
    values.set(setting.key, raw ? parseValue(setting, raw) : setting.default);
  }
  return assemble(file, root, values, origins);
}

function parseValue(setting: Setting, raw: RawValue): unknown {
  const empty = raw.value === null || (typeof raw.value === 'string' && raw.value.trim() === '');
  if (empty && setting.optional) return null;
  try {
    return setting.parse(raw.value);
  } catch (err) {
    if (err instanceof ExpectationError) fail(raw.origin, setting.key, err.message);
    throw err;
  }
}

function assemble(file: string | null, root: string, values: Map<string, unknown>, origins: Map<string, Origin>): ServerConfig {
  const get = <T>(key: string): T => values.get(key) as T;
  const abs = (p: string): string => resolve(root, p);
  const listener = (name: string): ListenerConfig => ({
    enabled: get(`listeners.${name}.enabled`),
    host: get(`listeners.${name}.host`),
    port: get(`listeners.${name}.port`),
  });

  const c2s = {
    ...listener('c2s'),
    requireTls: get<boolean>('listeners.c2s.require_tls'),
    proxyProtocol: get<boolean>('listeners.c2s.proxy_protocol'),
  };
  const c2sTls = { ...listener('c2s_tls'), proxyProtocol: get<boolean>('listeners.c2s_tls.proxy_protocol') };
  const http = listener('http');
  const https = listener('https');
  const admin = listener('admin');
  checkPortClashes([['c2s', c2s], ['c2s_tls', c2sTls], ['http', http], ['https', https], ['admin', admin]], origins);

  const cert = get<string | null>('tls.cert');
  const key = get<string | null>('tls.key');
  if ((cert === null) !== (key === null)) {
    const [set, missing] = cert !== null ? ['tls.cert', 'tls.key'] : ['tls.key', 'tls.cert'];
    fail(origins.get(set)!, set, `${missing} must be set too (both files, or neither to generate a self-signed pair)`);
  }

  const dataDir = abs(get('data_dir'));
  return {
    file,
    domain: get('domain'),
    nodeId: get<string | null>('node_id') ?? defaultNodeId(c2s.port),
    dataDir,
    logLevel: get<LogLevel>('log_level'),
    c2s,
    c2sTls,
    http,
    https,
    admin,
    allowPlaintextAuth: get('allow_plaintext_auth'),
    tls: { cert: cert && abs(cert), key: key && abs(key) },
    database: database(get('database.url'), dataDir, abs),
    pluginsDir: abs(get<string | null>('plugins_dir') ?? join(dataDir, 'plugins')),
    bundledPlugins: get('bundled_plugins'),
    cluster: {
      linkHost: get<string | null>('cluster.link.host'),
      linkPort: get<number | null>('cluster.link.port'),
      configFile: get<string | null>('cluster.config_file') && abs(get<string>('cluster.config_file')),
    },
  };
}

function database(url: string | null, dataDir: string, abs: (p: string) => string): DatabaseConfig {
  if (url === null) return { type: 'sqlite', path: join(dataDir, 'xmppd.sqlite') };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return { type: 'sqlite', path: path === ':memory:' ? path : abs(path) };
  }
  // mysql2 knows one scheme; mariadb:// is accepted as the same thing.
  return { type: 'mysql', url: url.replace(/^mariadb:/, 'mysql:') };
}

function checkPortClashes(listeners: [string, ListenerConfig][], origins: Map<string, Origin>): void {
  const seen = new Map<number, string>();
  for (const [name, l] of listeners) {
    if (!l.enabled || l.port === 0) continue;
    const other = seen.get(l.port);
    const key = `listeners.${name}.port`;
    if (other) fail(origins.get(key)!, key, `port ${l.port} is already used by listeners.${other}`);
    seen.set(l.port, name);
  }
}

/** Stable across restarts and distinct for nodes sharing a host (they differ in port). */
function defaultNodeId(port: number): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'node';
  return `${host.slice(0, 56)}-${port}`;
}
