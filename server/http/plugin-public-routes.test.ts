import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { Logger } from '../log.ts';
import { PluginRouteTable } from '../plugins/plugin-routes.ts';
import { pluginPublicRoutes } from './plugin-public-routes.ts';

class RecordingLogger extends Logger {
  readonly errors: string[] = [];
  override error(msg: string, fields?: Record<string, unknown>): void {
    this.errors.push(`${msg} ${JSON.stringify(fields)}`);
  }
}

async function app(table: PluginRouteTable, log: Logger): Promise<FastifyInstance> {
  const a = Fastify({ logger: false }) as unknown as FastifyInstance;
  await a.register(pluginPublicRoutes(table, log));
  await a.ready();
  return a;
}

test('routes answer while registered, with params and JSON bodies, and 404 once removed', async () => {
  const table = new PluginRouteTable();
  const a = await app(table, new RecordingLogger('test'));
  const removeHello = table.add('demo', { method: 'GET', path: '/hello/:who', handler: ({ params }) => ({ hello: params.who }) });
  table.add('demo', { method: 'POST', path: '/echo', handler: ({ request }) => ({ got: request.body }) });
  table.add('demo', {
    method: 'GET', path: '/teapot',
    handler: ({ reply }) => reply.code(418).type('text/plain; charset=utf-8').send('short and stout\n'),
  });

  const hello = await a.inject({ method: 'GET', url: '/plugins/demo/hello/world' });
  assert.equal(hello.statusCode, 200);
  assert.deepEqual(hello.json(), { hello: 'world' });
  const head = await a.inject({ method: 'HEAD', url: '/plugins/demo/hello/world' });
  assert.equal(head.statusCode, 200, 'HEAD is served by the GET route');
  const echo = await a.inject({ method: 'POST', url: '/plugins/demo/echo', payload: { n: 1 } });
  assert.deepEqual(echo.json(), { got: { n: 1 } });
  const teapot = await a.inject({ method: 'GET', url: '/plugins/demo/teapot' });
  assert.equal(teapot.statusCode, 418);
  assert.equal(teapot.body, 'short and stout\n');

  removeHello();
  const gone = await a.inject({ method: 'GET', url: '/plugins/demo/hello/world' });
  assert.equal(gone.statusCode, 404);
  assert.deepEqual(gone.json(), { statusCode: 404, error: 'Not Found', message: 'plugin demo has no route GET /hello/world' });
  await a.close();
});

test('an unknown plugin, method or path is a 404 naming what was asked', async () => {
  const table = new PluginRouteTable();
  table.add('demo', { method: 'GET', path: '/a', handler: () => ({}) });
  const a = await app(table, new RecordingLogger('test'));
  for (const [method, url, message] of [
    ['GET', '/plugins/nobody/a', 'plugin nobody has no route GET /a'],
    ['DELETE', '/plugins/demo/a', 'plugin demo has no route DELETE /a'],
    ['GET', '/plugins/demo/b', 'plugin demo has no route GET /b'],
    ['GET', '/plugins/demo/', 'plugin demo has no route GET /'],
  ] as const) {
    const res = await a.inject({ method, url });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.json().message, message);
  }
  await a.close();
});

test('a handler that throws gives a 500 without details, and the error is logged', async () => {
  const table = new PluginRouteTable();
  table.add('demo', { method: 'GET', path: '/boom', handler: () => { throw new Error('secret detail'); } });
  table.add('demo', { method: 'GET', path: '/late', handler: async () => { await Promise.resolve(); throw new Error('async failure'); } });
  const log = new RecordingLogger('test');
  const a = await app(table, log);
  for (const url of ['/plugins/demo/boom', '/plugins/demo/late']) {
    const res = await a.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'plugin demo failed to answer' });
    assert.ok(!res.body.includes('failure') && !res.body.includes('secret'));
  }
  assert.equal(log.errors.length, 2);
  assert.match(log.errors[0]!, /plugin route failed .*"plugin":"demo".*secret detail/);
  assert.match(log.errors[1]!, /async failure/);
  await a.close();
});

test('segments are decoded exactly once; malformed percent-encoding is a 400, not a failure', async () => {
  const table = new PluginRouteTable();
  table.add('demo', { method: 'GET', path: '/item/:id', handler: ({ params }) => ({ id: params.id }) });
  const a = await app(table, new RecordingLogger('test'));
  const ok = await a.inject({ method: 'GET', url: '/plugins/demo/item/a%20b' });
  assert.deepEqual(ok.json(), { id: 'a b' });
  const slash = await a.inject({ method: 'GET', url: '/plugins/demo/item/a%2Fb' });
  assert.deepEqual(slash.json(), { id: 'a/b' }, 'an encoded slash stays in its segment');
  const once = await a.inject({ method: 'GET', url: '/plugins/demo/item/%2541?x=1' });
  assert.deepEqual(once.json(), { id: '%41' }, 'decoded once, the query left out');
  const bad = await a.inject({ method: 'GET', url: '/plugins/demo/item/%zz' });
  assert.equal(bad.statusCode, 400);
  await a.close();
});
