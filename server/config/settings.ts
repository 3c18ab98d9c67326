// Every key of conf/xmppd.yml: its dotted path in the file, the environment variable that
// overrides it, its built-in default and how a raw value (typed YAML, or an environment
// string) is checked. load-config.ts walks this table; docs/configuration.md lists it.
import { isIP } from 'node:net';
import { prepareDomain } from '../jid/prep.ts';
import type { LogLevel } from './types.ts';
import { ExpectationError } from './config-error.ts';

export interface Setting<T = unknown> {
  /** Dotted path in the YAML file, e.g. `listeners.c2s.port`. */
  key: string;
  env: string;
  /** null means "not set": the loader derives the value (node_id, tls, database). */
  default: T | null;
  /** Whether an empty value (YAML null or "") means "not set" rather than a mistake. */
  optional?: boolean;
  parse(raw: unknown): T;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function port(raw: unknown): number {
  const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ExpectationError('an integer 0-65535', raw);
  }
  return n;
}

function boolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ExpectationError('true or false', raw);
}

function nonEmptyString(what: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ExpectationError(what, raw);
  return raw.trim();
}

function path(raw: unknown): string {
  return nonEmptyString('a path', raw);
}

/**
 * Plugin names: a YAML list, or a string of names separated by commas or spaces; `none` (or an
 * empty YAML list) for none, since an empty environment variable counts as unset.
 */
function pluginNames(raw: unknown): string[] {
  const expected = 'a list of plugin names (or none)';
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : null;
  if (items === null || !items.every((n) => typeof n === 'string')) throw new ExpectationError(expected, raw);
  const names = (items as string[]).map((n) => n.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const bad = names.find((n) => !/^[a-z0-9][a-z0-9._-]*$/.test(n));
  if (bad !== undefined) throw new ExpectationError(expected, bad);
  return names;
}

function host(raw: unknown): string {
  const s = typeof raw === 'string' ? raw.trim() : raw;
  // An address to bind: an IP literal or a name the resolver knows (localhost, a hostname).
  if (typeof s === 'string' && (isIP(s) || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s))) return s;
  throw new ExpectationError('an IP address or host name to listen on', raw);
}

function domain(raw: unknown): string {
  const prepared = typeof raw === 'string' ? prepareDomain(raw.trim()) : null;
  if (prepared === null) throw new ExpectationError('a domain name (RFC 7622 domainpart)', raw);
  return prepared;
}

function nodeId(raw: unknown): string {
  // Used in cluster maps, log lines and folder names, so kept to a portable alphabet.
  if (typeof raw === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(raw.trim())) return raw.trim();
  throw new ExpectationError('1-64 letters, digits, ".", "_" or "-", starting with a letter or digit', raw);
}

function logLevel(raw: unknown): LogLevel {
  const s = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (LOG_LEVELS.includes(s as LogLevel)) return s as LogLevel;
  throw new ExpectationError(`one of ${LOG_LEVELS.join(', ')}`, raw);
}

function databaseUrl(raw: unknown): string {
  const expected = 'sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DATABASE';
  if (typeof raw !== 'string') throw new ExpectationError(expected, raw);
  const s = raw.trim();
  if (/^sqlite:.+/.test(s)) return s;
  if (/^(mysql|mariadb):\/\//.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new ExpectationError(expected, raw);
    }
    if (!url.hostname || url.pathname.length < 2) throw new ExpectationError(`${expected} (host and database name are required)`, raw);
    return s;
  }
  throw new ExpectationError(expected, raw);
}

function listener(name: string, envPrefix: string, defaultPort: number, defaultHost = '0.0.0.0', enabled = true): Setting[] {
  return [
    { key: `listeners.${name}.enabled`, env: `${envPrefix}_ENABLED`, default: enabled, parse: boolean },
    { key: `listeners.${name}.host`, env: `${envPrefix}_HOST`, default: defaultHost, parse: host },
    { key: `listeners.${name}.port`, env: `${envPrefix}_PORT`, default: defaultPort, parse: port },
  ];
}

export const SETTINGS: readonly Setting[] = [
  { key: 'domain', env: 'XMPPD_DOMAIN', default: 'localhost', parse: domain },
  { key: 'node_id', env: 'XMPPD_NODE_ID', default: null, optional: true, parse: nodeId },
  { key: 'data_dir', env: 'XMPPD_DATA_DIR', default: './data', parse: path },
  { key: 'log_level', env: 'XMPPD_LOG_LEVEL', default: 'info', parse: logLevel },
  ...listener('c2s', 'XMPPD_C2S', 5222),
  { key: 'listeners.c2s.require_tls', env: 'XMPPD_REQUIRE_TLS', default: true, parse: boolean },
  // Off by default: with it on, a connection without the balancer's header is refused, and
  // with it on for a port clients reach directly, anyone could claim any address.
  { key: 'listeners.c2s.proxy_protocol', env: 'XMPPD_C2S_PROXY_PROTOCOL', default: false, parse: boolean },
  ...listener('c2s_tls', 'XMPPD_C2S_TLS', 5223),
  { key: 'listeners.c2s_tls.proxy_protocol', env: 'XMPPD_C2S_TLS_PROXY_PROTOCOL', default: false, parse: boolean },
  ...listener('http', 'XMPPD_HTTP', 7070),
  // The same service over TLS with the node's certificate; off until wanted, as most
  // deployments terminate TLS at the load balancer.
  ...listener('https', 'XMPPD_HTTPS', 7443, '0.0.0.0', false),
  // The admin API gives control of the server: this machine only, unless the operator says otherwise.
  ...listener('admin', 'XMPPD_ADMIN', 9090, '127.0.0.1'),
  { key: 'allow_plaintext_auth', env: 'XMPPD_ALLOW_PLAINTEXT_AUTH', default: false, parse: boolean },
  { key: 'tls.cert', env: 'XMPPD_TLS_CERT', default: null, optional: true, parse: path },
  { key: 'tls.key', env: 'XMPPD_TLS_KEY', default: null, optional: true, parse: path },
  { key: 'database.url', env: 'XMPPD_DATABASE_URL', default: null, optional: true, parse: databaseUrl },
  // What differs from node to node of a cluster, read by the clustering plugin: where this
  // node's cluster link listens (an address the other nodes reach it at) and, when set, the
  // file of the plugin's own client configuration. Empty: the plugin's defaults.
  { key: 'cluster.link.host', env: 'XMPPD_CLUSTER_LINK_HOST', default: null, optional: true, parse: host },
  { key: 'cluster.link.port', env: 'XMPPD_CLUSTER_LINK_PORT', default: null, optional: true, parse: port },
  { key: 'cluster.config_file', env: 'XMPPD_CLUSTER_CONFIG_FILE', default: null, optional: true, parse: path },
  // Not the checkout's plugins/, which holds the plugins' sources: unset, it is
  // <data_dir>/plugins, so that a fresh install runs only what the operator chose.
  { key: 'plugins_dir', env: 'XMPPD_PLUGINS_DIR', default: null, optional: true, parse: path },
  // Copied from the install's plugins/ into plugins_dir when that folder is first created:
  // the clustering plugin, which does nothing until clustering.enabled is set.
  { key: 'bundled_plugins', env: 'XMPPD_BUNDLED_PLUGINS', default: ['hazelcast'], parse: pluginNames },
];

/** Keys that hold other keys; anything else in the file that is not a setting is a typo. */
export const SECTIONS: ReadonlySet<string> = new Set(
  SETTINGS.flatMap((s) => {
    const parts = s.key.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);
