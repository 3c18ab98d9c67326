import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import { DEFAULT_CONFIG_FILE, PROJECT_ROOT, loadConfig } from './load-config.ts';
import { SETTINGS } from './settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'xmppd-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function yml(text: string): string {
  const file = join(dir, `c${++counter}.yml`);
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('no error thrown');
}

test('built-in defaults', () => {
  const c = loadConfig({ file: null, env: {} });
  assert.equal(c.file, null);
  assert.equal(c.domain, 'localhost');
  assert.equal(c.dataDir, join(PROJECT_ROOT, 'data'));
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.c2s, { enabled: true, host: '0.0.0.0', port: 5222, requireTls: true, proxyProtocol: false });
  assert.deepEqual(c.c2sTls, { enabled: true, host: '0.0.0.0', port: 5223, proxyProtocol: false });
  assert.deepEqual(c.http, { enabled: true, host: '0.0.0.0', port: 7070 });
  assert.deepEqual(c.https, { enabled: false, host: '0.0.0.0', port: 7443 }, 'HTTPS is opened only when asked for');
  assert.equal(c.allowPlaintextAuth, false);
  assert.deepEqual(c.tls, { cert: null, key: null });
  assert.deepEqual(c.database, { type: 'sqlite', path: join(PROJECT_ROOT, 'data', 'xmppd.sqlite') });
  assert.equal(c.pluginsDir, join(PROJECT_ROOT, 'data', 'plugins'), 'the drop-in folder is not the plugins\' sources');
  assert.deepEqual(c.bundledPlugins, ['hazelcast']);
  assert.match(c.nodeId, /^[A-Za-z0-9][A-Za-z0-9._-]*-5222$/);
});

test('the shipped conf/xmppd.yml states exactly the built-in defaults', () => {
  const shipped = loadConfig({ env: {} });
  assert.equal(shipped.file, DEFAULT_CONFIG_FILE);
  assert.deepEqual({ ...shipped, file: null }, loadConfig({ file: null, env: {} }));
});

test('the shipped file and docs/configuration.md mention every key and environment variable', () => {
  const text = readFileSync(DEFAULT_CONFIG_FILE, 'utf8');
  const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
  for (const s of SETTINGS) {
    const leaf = s.key.split('.').at(-1)!;
    assert.match(text, new RegExp(`^\\s*${leaf}:`, 'm'), `${s.key} missing from conf/xmppd.yml`);
    assert.ok(text.includes(s.env), `${s.env} missing from conf/xmppd.yml`);
    assert.ok(docs.includes(`\`${s.key}\``), `${s.key} missing from docs/configuration.md`);
    assert.ok(docs.includes(s.env), `${s.env} missing from docs/configuration.md`);
  }
});

test('a file sets values; relative paths resolve against the root, not the working directory', () => {
  const file = yml(`
domain: Example.COM
node_id: node-a
data_dir: var/data
log_level: debug
listeners:
  c2s: { host: 127.0.0.1, port: 15222, require_tls: false, proxy_protocol: true }
  c2s_tls: { enabled: false, proxy_protocol: true }
  http: { port: 0 }
  https: { enabled: true, port: 8443 }
allow_plaintext_auth: true
tls:
  cert: certs/a.crt
  key: /etc/ssl/a.key
database:
  url: sqlite:db/x.sqlite
plugins_dir: /opt/plugins
`);
  const c = loadConfig({ file, env: {}, root: '/srv/xmppd' });
  assert.equal(c.file, file);
  assert.equal(c.domain, 'example.com');
  assert.equal(c.nodeId, 'node-a');
  assert.equal(c.dataDir, '/srv/xmppd/var/data');
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual(c.c2s, { enabled: true, host: '127.0.0.1', port: 15222, requireTls: false, proxyProtocol: true });
  assert.deepEqual(c.c2sTls, { enabled: false, host: '0.0.0.0', port: 5223, proxyProtocol: true });
  assert.equal(c.http.port, 0);
  assert.deepEqual(c.https, { enabled: true, host: '0.0.0.0', port: 8443 });
  assert.equal(c.allowPlaintextAuth, true);
  assert.deepEqual(c.tls, { cert: '/srv/xmppd/certs/a.crt', key: '/etc/ssl/a.key' });
  assert.deepEqual(c.database, { type: 'sqlite', path: '/srv/xmppd/db/x.sqlite' });
  assert.equal(c.pluginsDir, '/opt/plugins');
});

test('an empty file, or empty sections, keep the defaults', () => {
  assert.equal(loadConfig({ file: yml(''), env: {} }).domain, 'localhost');
  assert.deepEqual(loadConfig({ file: yml('tls:\nlisteners:\n  c2s:\n'), env: {} }).tls, { cert: null, key: null });
});

test('environment variables override the file', () => {
  const file = yml('domain: file.example\nlisteners:\n  c2s:\n    port: 1000\n');
  const c = loadConfig({
    file,
    root: '/r',
    env: {
      XMPPD_DOMAIN: 'env.example',
      XMPPD_NODE_ID: 'n1',
      XMPPD_DATA_DIR: 'd',
      XMPPD_LOG_LEVEL: 'WARN',
      XMPPD_C2S_PORT: '2000',
      XMPPD_C2S_HOST: '::',
      XMPPD_C2S_ENABLED: 'false',
      XMPPD_REQUIRE_TLS: 'false',
      XMPPD_C2S_PROXY_PROTOCOL: 'true',
      XMPPD_C2S_TLS_PORT: '2001',
      XMPPD_C2S_TLS_PROXY_PROTOCOL: 'false',
      XMPPD_C2S_TLS_HOST: '127.0.0.1',
      XMPPD_C2S_TLS_ENABLED: 'true',
      XMPPD_HTTP_PORT: '0',
      XMPPD_HTTP_HOST: 'localhost',
      XMPPD_HTTP_ENABLED: 'false',
      XMPPD_HTTPS_PORT: '2443',
      XMPPD_HTTPS_HOST: '::1',
      XMPPD_HTTPS_ENABLED: 'true',
      XMPPD_ALLOW_PLAINTEXT_AUTH: 'true',
      XMPPD_TLS_CERT: 'c.pem',
      XMPPD_TLS_KEY: 'k.pem',
      XMPPD_DATABASE_URL: 'mysql://root@127.0.0.1:3306/xmppd',
      XMPPD_PLUGINS_DIR: 'p',
      XMPPD_BUNDLED_PLUGINS: 'none',
      XMPPD_CLUSTER_LINK_HOST: '10.0.0.7',
      XMPPD_CLUSTER_LINK_PORT: '5263',
      XMPPD_CLUSTER_CONFIG_FILE: 'conf/hz.xml',
    },
  });
  assert.deepEqual({ ...c, file: null }, {
    file: null,
    domain: 'env.example',
    nodeId: 'n1',
    dataDir: '/r/d',
    logLevel: 'warn',
    c2s: { enabled: false, host: '::', port: 2000, requireTls: false, proxyProtocol: true },
    c2sTls: { enabled: true, host: '127.0.0.1', port: 2001, proxyProtocol: false },
    http: { enabled: false, host: 'localhost', port: 0 },
    https: { enabled: true, host: '::1', port: 2443 },
    admin: { enabled: true, host: '127.0.0.1', port: 9090 },
    allowPlaintextAuth: true,
    tls: { cert: '/r/c.pem', key: '/r/k.pem' },
    database: { type: 'mysql', url: 'mysql://root@127.0.0.1:3306/xmppd' },
    pluginsDir: '/r/p',
    bundledPlugins: [],
    cluster: { linkHost: '10.0.0.7', linkPort: 5263, configFile: '/r/conf/hz.xml' },
  });
});

test('the cluster section is per node: read from the file, empty by default', () => {
  assert.deepEqual(loadConfig({ file: null, env: {} }).cluster, { linkHost: null, linkPort: null, configFile: null });
  const c = loadConfig({ file: yml('cluster:\n  link:\n    host: 192.0.2.4\n    port: 0\n  config_file: /etc/xmppd/hz.xml\n'), env: {} });
  assert.deepEqual(c.cluster, { linkHost: '192.0.2.4', linkPort: 0, configFile: '/etc/xmppd/hz.xml' });
  assert.throws(() => loadConfig({ file: yml('cluster:\n  link:\n    port: 70000\n'), env: {} }), /cluster\.link\.port: expected an integer 0-65535/);
});

test('bundled_plugins takes a YAML list, names separated by commas, or none; a bad name is named', () => {
  assert.deepEqual(loadConfig({ file: yml('bundled_plugins: [hazelcast, audit]\n'), env: {} }).bundledPlugins, ['hazelcast', 'audit']);
  assert.deepEqual(loadConfig({ file: yml('bundled_plugins: []\n'), env: {} }).bundledPlugins, []);
  assert.deepEqual(loadConfig({ file: null, env: { XMPPD_BUNDLED_PLUGINS: 'a, b' } }).bundledPlugins, ['a', 'b']);
  assert.deepEqual(loadConfig({ file: null, env: { XMPPD_BUNDLED_PLUGINS: 'none' } }).bundledPlugins, []);
  assert.throws(() => loadConfig({ file: null, env: { XMPPD_BUNDLED_PLUGINS: '../x' } }), /XMPPD_BUNDLED_PLUGINS: bundled_plugins: expected a list of plugin names \(or none\), got "\.\.\/x"/);
});

test('an empty environment variable counts as unset', () => {
  assert.equal(loadConfig({ file: null, env: { XMPPD_DOMAIN: '', XMPPD_C2S_PORT: ' ' } }).c2s.port, 5222);
});

test('XMPPD_CONFIG names the file; --config (the file option) wins over it', () => {
  const a = yml('domain: a.example\n');
  const b = yml('domain: b.example\n');
  assert.equal(loadConfig({ env: { XMPPD_CONFIG: a } }).domain, 'a.example');
  assert.equal(loadConfig({ file: b, env: { XMPPD_CONFIG: a } }).domain, 'b.example');
});

test('database URLs', () => {
  const db = (url: string) => loadConfig({ file: null, root: '/r', env: { XMPPD_DATABASE_URL: url } }).database;
  assert.deepEqual(db('sqlite:/var/lib/x.sqlite'), { type: 'sqlite', path: '/var/lib/x.sqlite' });
  assert.deepEqual(db('sqlite::memory:'), { type: 'sqlite', path: ':memory:' });
  assert.deepEqual(db('mariadb://u:p@db:3307/chat'), { type: 'mysql', url: 'mysql://u:p@db:3307/chat' });
  assert.match(configError(() => db('postgres://x/y')), /^environment variable XMPPD_DATABASE_URL: database.url: expected sqlite:PATH or mysql:/);
  assert.match(configError(() => db('mysql://127.0.0.1')), /host and database name are required/);
});

test('a wrong value names the file, line, key and expectation', () => {
  const file = yml('domain: localhost\nlisteners:\n  c2s:\n    port: abc\n');
  const shown = file.startsWith(process.cwd()) ? file.slice(process.cwd().length + 1) : file;
  assert.equal(configError(() => loadConfig({ file, env: {} })), `${shown}:4: listeners.c2s.port: expected an integer 0-65535, got "abc"`);
});

test('a wrong environment value names the variable', () => {
  assert.equal(
    configError(() => loadConfig({ file: null, env: { XMPPD_C2S_PORT: '70000' } })),
    'environment variable XMPPD_C2S_PORT: listeners.c2s.port: expected an integer 0-65535, got "70000"',
  );
  assert.match(configError(() => loadConfig({ file: null, env: { XMPPD_REQUIRE_TLS: 'yes' } })), /listeners.c2s.require_tls: expected true or false, got "yes"/);
  assert.equal(
    configError(() => loadConfig({ file: null, env: { XMPPD_C2S_TLS_PROXY_PROTOCOL: 'on' } })),
    'environment variable XMPPD_C2S_TLS_PROXY_PROTOCOL: listeners.c2s_tls.proxy_protocol: expected true or false, got "on"',
  );
});

test('values of the wrong kind are refused', () => {
  const cases: [string, RegExp][] = [
    ['domain: "not a domain"', /:1: domain: expected a domain name/],
    ['domain:', /:1: domain: expected a domain name \(RFC 7622 domainpart\), got nothing/],
    ['node_id: "-x"', /node_id: expected 1-64 letters/],
    ['log_level: verbose', /log_level: expected one of debug, info, warn, error, got "verbose"/],
    ['allow_plaintext_auth: yes', /allow_plaintext_auth: expected true or false, got "yes"/],
    ['listeners:\n  http:\n    port: 1.5', /:3: listeners.http.port: expected an integer 0-65535, got 1.5/],
    ['listeners:\n  http:\n    host: "a b"', /listeners.http.host: expected an IP address or host name/],
    ['listeners:\n  c2s_tls:\n    proxy_protocol: 1', /:3: listeners.c2s_tls.proxy_protocol: expected true or false, got 1/],
    ['listeners:\n  c2s: [1, 2]', /:2: listeners.c2s: expected a mapping of settings, got a list/],
    ['listeners: 5222', /:1: listeners: expected a mapping of settings, got 5222/],
    ['data_dir: [a]', /data_dir: expected a path, got a list/],
    ['- a\n- b', /: expected a mapping of settings at the top level$/],
  ];
  for (const [text, expected] of cases) assert.match(configError(() => loadConfig({ file: yml(text), env: {} })), expected, text);
});

test('unknown keys are errors, with a suggestion for near misses', () => {
  assert.match(configError(() => loadConfig({ file: yml('domain: x\nlisteners:\n  c2s:\n    prot: 1\n'), env: {} })),
    /:4: listeners.c2s.prot: unknown key \(did you mean listeners.c2s.port\?\)$/);
  assert.match(configError(() => loadConfig({ file: yml('federation:\n  port: 5269\n'), env: {} })), /:1: federation: unknown key$/);
  assert.match(configError(() => loadConfig({ file: yml('requre_tls: true\n'), env: {} })), /requre_tls: unknown key \(did you mean listeners.c2s.require_tls\?\)/);
});

test('YAML syntax errors name the file and line', () => {
  const file = yml('domain: localhost\nlisteners:\n  c2s: [1,\n');
  assert.match(configError(() => loadConfig({ file, env: {} })), /c\d+\.yml:\d+:\d+: YAML syntax error: /);
  assert.match(configError(() => loadConfig({ file: yml('domain: a\ndomain: b\n'), env: {} })), /c\d+\.yml:2:1: YAML syntax error: Map keys must be unique/);
});

test('a missing explicit file is an error, naming it', () => {
  assert.match(configError(() => loadConfig({ file: join(dir, 'nope.yml'), env: {} })), /nope\.yml: cannot read the configuration file: ENOENT/);
});

test('tls.cert and tls.key go together', () => {
  assert.match(configError(() => loadConfig({ file: yml('tls:\n  cert: a.crt\n'), env: {} })),
    /:2: tls.cert: tls.key must be set too/);
  assert.match(configError(() => loadConfig({ file: null, env: { XMPPD_TLS_KEY: 'k' } })),
    /^environment variable XMPPD_TLS_KEY: tls.key: tls.cert must be set too/);
});

test('two enabled listeners cannot share a port; port 0 (ephemeral) and disabled ones can', () => {
  assert.match(configError(() => loadConfig({ file: null, env: { XMPPD_HTTP_PORT: '5222' } })),
    /XMPPD_HTTP_PORT: listeners.http.port: port 5222 is already used by listeners.c2s/);
  const ok = loadConfig({ file: null, env: { XMPPD_C2S_PORT: '0', XMPPD_C2S_TLS_PORT: '0', XMPPD_HTTP_PORT: '5222', XMPPD_C2S_ENABLED: 'false' } });
  assert.equal(ok.http.port, 5222);
  // The disabled HTTPS listener does not hold its port; enabled, it does.
  assert.equal(loadConfig({ file: null, env: { XMPPD_HTTP_PORT: '7443' } }).http.port, 7443);
  assert.match(configError(() => loadConfig({ file: null, env: { XMPPD_HTTPS_ENABLED: 'true', XMPPD_HTTPS_PORT: '7070' } })),
    /XMPPD_HTTPS_PORT: listeners.https.port: port 7070 is already used by listeners.http/);
});
