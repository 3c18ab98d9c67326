// /status, /healthz, /readyz and /metrics of a real server process: what they report while
// clients of every transport are connected, and how the node pauses when its database
// becomes unreachable (through a proxy the test cuts) and resumes by itself.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { ADMIN_PROPERTIES, ADMIN_USER, admin } from '../plugins/fixtures.ts';
import { BoshClient } from './bosh-client.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { WsClient } from './ws-client.ts';

interface Counters { total: number; current: number; peak: number }
interface Status {
  version: string; node: string; domain: string; state: string; reason: string | null; pid: number;
  startedAt: string; uptimeSeconds: number; stateSince: string;
  cpu: { userSeconds: number; systemSeconds: number; percent: number };
  memory: { rssBytes: number; peakRssBytes: number; heapUsedBytes: number };
  connections: Record<'tcp' | 'bosh' | 'websocket', Counters>;
  sessions: number;
  logins: { succeeded: number; failed: number };
  stanzas: { received: { message: number; total: number }; routed: number; delivered: number };
  dependencies: { name: string; available: boolean }[];
  cluster?: unknown;
}

const get = async (server: TestServer, path: string): Promise<Response> => fetch(`http://127.0.0.1:${server.httpPort}${path}`);
const status = async (server: TestServer): Promise<Status> => (await get(server, '/status')).json() as Promise<Status>;
const metrics = async (server: TestServer): Promise<string> => (await get(server, '/metrics')).text();
const metric = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('status of a running node', () => {
  test('reports identity, resources, connections per transport and traffic', async () => {
    const server = await startTestServer();
    try {
      for (const u of ['alice', 'bob', 'carol', 'dave']) await server.addUser(u, 'secret');
      const before = await status(server);
      assert.equal(before.state, 'running');
      assert.equal(before.reason, null);
      assert.equal(before.domain, 'localhost');
      assert.equal(before.pid, server.pid);
      assert.match(before.version, /^\d+\.\d+\.\d+/);
      assert.ok(before.node.length > 0);
      assert.ok(Date.parse(before.startedAt) <= Date.now());
      assert.ok(before.memory.rssBytes > 0 && before.memory.peakRssBytes >= before.memory.heapUsedBytes);
      assert.ok(before.cpu.userSeconds > 0);
      assert.deepEqual(before.dependencies.map((d) => [d.name, d.available]), [['Database', true]]);
      assert.equal(before.cluster, undefined, 'no cluster summary while standalone');

      const tcp = await RawClient.login(server.c2sPort, 'alice', 'secret');
      const bosh = await BoshClient.create(server.httpPort, { wait: 5 });
      await bosh.login('bob', 'secret');
      const ws = await WsClient.connect(server.httpPort);
      await ws.login('carol', 'secret');
      const bad = await RawClient.connect(server.c2sPort);
      await bad.open();
      assert.equal((await bad.authPlain('dave', 'wrong')).name, 'failure');
      tcp.send(`<message to='dave@localhost' type='chat'><body>for later</body></message>`);
      tcp.send(`<message to='${ws.jid}' type='chat'><body>hello</body></message>`);
      await ws.expect((el) => el.name === 'message');

      const during = await status(server);
      assert.deepEqual(during.connections.bosh, { total: 1, current: 1, peak: 1 });
      assert.deepEqual(during.connections.websocket, { total: 1, current: 1, peak: 1 });
      assert.equal(during.connections.tcp.current, 2);
      assert.equal(during.sessions, 3);
      assert.equal(during.logins.succeeded - before.logins.succeeded, 3);
      assert.ok(during.logins.failed - before.logins.failed >= 1);
      assert.ok(during.stanzas.received.message >= 2);
      assert.ok(during.stanzas.routed >= 2 && during.stanzas.delivered >= 1);

      // Enough routed stanzas that the sampled routing-latency histogram has observations.
      for (let i = 0; i < 32; i++) await tcp.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
      const m = await metrics(server);
      assert.ok(metric(m, 'xmppd_routing_seconds_count')! >= 2, 'routing latency is sampled');
      assert.ok(metric(m, 'xmppd_stanzas_sent_total{kind="iq"}')! >= 32, 'stanzas sent are counted by kind');
      assert.equal(metric(m, 'xmppd_connections{transport="bosh"}'), 1);
      assert.equal(metric(m, 'xmppd_connections{transport="websocket"}'), 1);
      assert.equal(metric(m, 'xmppd_connections{transport="tcp"}'), 2);
      assert.equal(metric(m, 'xmppd_sessions'), 3);
      assert.equal(metric(m, 'xmppd_bosh_sessions'), 1);
      assert.ok(metric(m, 'xmppd_logins_total')! >= 3);
      assert.ok(metric(m, 'xmppd_login_failures_total')! >= 1);
      assert.ok(metric(m, 'xmppd_stanzas_received_total{kind="message"}')! >= 2);
      assert.equal(metric(m, 'xmppd_offline_messages'), 1, "dave's stored message");
      assert.equal(metric(m, 'xmppd_state{state="running"}'), 1);
      assert.equal(metric(m, 'xmppd_dependency_up{dependency="Database"}'), 1);
      assert.equal(metric(m, 'xmppd_cluster_enabled'), 0);
      assert.ok(metric(m, 'nodejs_eventloop_lag_seconds')! >= 0, 'event loop lag is exported');
      assert.match(m, /# TYPE xmppd_logins_total counter/);

      await tcp.close();
      await bad.close();
      await bosh.send('', { type: 'terminate' });
      ws.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
      await ws.closed;
      const afterwards = await eventually('connections to close', () => status(server), (s) => s.connections.tcp.current === 0 && s.connections.websocket.current === 0);
      assert.deepEqual(afterwards.connections.bosh, { total: 1, current: 0, peak: 1 });
      assert.equal(afterwards.connections.tcp.peak, 2);
      assert.equal(afterwards.sessions, 0);
    } finally {
      await server.stop();
    }
  });

  test('/status and /metrics are served to xmpp.http.status.allowed only, /healthz and /readyz to all, both to administrators on the admin listener', async () => {
    const server = await startTestServer({ properties: { ...ADMIN_PROPERTIES, 'xmpp.http.trusted-proxies': '127.0.0.1' } });
    try {
      await server.addUser('admin', ADMIN_USER[1]);
      const from = (client: string | null) => async (path: string): Promise<Response> =>
        fetch(`http://127.0.0.1:${server.httpPort}${path}`, { headers: client ? { 'x-forwarded-for': client } : {} });
      // By default: loopback and the private networks.
      for (const client of [null, '10.1.2.3', '192.168.7.8', '172.20.0.1', 'fd00::5']) {
        for (const path of ['/status', '/metrics', '/healthz', '/readyz']) assert.equal((await from(client)(path)).status, 200, `${client} ${path}`);
      }
      for (const client of ['203.0.113.5', '172.32.0.1', '2001:db8::1']) {
        const refused = await from(client)('/status');
        assert.equal(refused.status, 403, client);
        assert.equal(await refused.text(), '/status is served only to the networks in the property xmpp.http.status.allowed; '
          + 'administrators find it on the admin listener at /api/status\n');
        const metricsRefused = await from(client)('/metrics?x=1');
        assert.equal(metricsRefused.status, 403);
        assert.match(await metricsRefused.text(), /^\/metrics is served only .* at \/api\/metrics\n$/);
        assert.equal((await from(client)('/healthz')).status, 200, 'load balancers check from anywhere');
        assert.equal((await from(client)('/readyz')).status, 200);
      }

      await server.setProperty('xmpp.http.status.allowed', 'not-a-network, 203.0.113.0/24');
      await eventually('the change to apply', async () => (await from('203.0.113.5')('/status')).status, (s) => s === 200);
      assert.equal((await from(null)('/status')).status, 403, 'loopback is no longer listed');
      assert.match(server.logs(), /WARN {2}\[http\] ignoring an entry of xmpp\.http\.status\.allowed: not an IP address or CIDR range entry=not-a-network/);

      await server.setProperty('xmpp.http.status.allowed', '');
      await eventually('the change to apply', async () => (await from('203.0.113.5')('/metrics')).status, (s) => s === 403);
      assert.equal((await from(null)('/healthz')).status, 200);
      // Administrators read both on the admin listener whatever the property says.
      const status = await admin(server.adminPort, 'GET', '/api/status');
      assert.equal(status.status, 200);
      assert.equal(status.body.pid, server.pid);
      const scrape = await fetch(`http://127.0.0.1:${server.adminPort}/api/metrics`, {
        headers: { authorization: `Basic ${Buffer.from(ADMIN_USER.join(':')).toString('base64')}` },
      });
      assert.equal(scrape.status, 200);
      assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(metric(await scrape.text(), 'xmppd_state{state="running"}'), 1);
      assert.equal((await fetch(`http://127.0.0.1:${server.adminPort}/api/metrics`)).status, 401);
    } finally {
      await server.stop();
    }
  });

  test('/healthz and /readyz answer load balancers', async () => {
    const server = await startTestServer();
    try {
      const health = await get(server, '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { alive: true });
      const ready = await get(server, '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { ready: true, state: 'running', reason: null });
      assert.match((await get(server, '/metrics')).headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    } finally {
      await server.stop();
    }
  });
});

describe('a node whose database goes away', () => {
  test('pauses, refuses new logins saying why, and resumes by itself when the database is back', async () => {
    const database = await createTestDatabase('mysql');
    if (database.config.type !== 'mysql') throw new Error('expected a MySQL database');
    const direct = new URL(database.config.url);
    const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 3306) });
    const viaProxy = new URL(database.config.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const server = await startTestServer({
      dialect: 'mysql',
      database,
      env: { XMPPD_DATABASE_URL: viaProxy.toString() },
      properties: { 'xmpp.health.check-interval': '1' },
    });
    const clients: RawClient[] = [];
    try {
      await server.addUser('alice', 'secret');
      await server.addUser('bob', 'secret');
      clients.push(await RawClient.login(server.c2sPort, 'alice', 'secret'));
      assert.equal((await status(server)).state, 'running');

      await proxy.down();
      const paused = await eventually('state to become paused', () => status(server), (s) => s.state === 'paused');
      assert.equal(paused.reason, 'The following dependent services are unavailable: Database');
      assert.deepEqual(paused.dependencies.map((d) => [d.name, d.available]), [['Database', false]]);
      const ready = await get(server, '/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ready: false, state: 'paused', reason: paused.reason });
      assert.equal((await get(server, '/healthz')).status, 200, 'the process itself is alive');
      const m = await metrics(server);
      assert.equal(metric(m, 'xmppd_state{state="paused"}'), 1);
      assert.equal(metric(m, 'xmppd_dependency_up{dependency="Database"}'), 0);

      const refused = await RawClient.connect(server.c2sPort);
      clients.push(refused);
      await refused.open();
      const failure: Element = await refused.authPlain('bob', 'secret');
      assert.equal(failure.name, 'failure');
      assert.ok(failure.getChild('temporary-auth-failure'), String(failure));
      assert.match(failure.getChildText('text') ?? '', /unavailable: Database/);

      await proxy.up();
      const resumed = await eventually('state to become running', () => status(server), (s) => s.state === 'running', 30_000);
      assert.equal(resumed.reason, null);
      assert.equal((await get(server, '/readyz')).status, 200);
      const bob = await RawClient.login(server.c2sPort, 'bob', 'secret');
      clients.push(bob);
      assert.equal(bob.jid.split('/')[0], 'bob@localhost', 'logins work again');
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      await proxy.up().catch(() => {});
      await server.stop();
      await proxy.down();
      await database.drop();
    }
  });
});
