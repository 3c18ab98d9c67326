import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { Logger, setLogLevel } from '../log.ts';
import type { CoreProperties } from '../properties/core-properties.ts';
import { ServerStats } from '../stats.ts';
import { ClientConnections, automaticSocketCap, readOpenFileLimit } from './client-connections.ts';

/** The properties ClientConnections reads, with fixed values. */
function core(values: { perIp?: number; max?: number }): CoreProperties {
  const p = (value: number) => ({ value });
  return {
    c2sMaxConnectionsPerIp: p(values.perIp ?? 100),
    c2sMaxConnections: p(values.max ?? 0),
    c2sSendQueueMaxBytes: p(1048576),
    tlsHandshakeTimeout: p(10),
  } as unknown as CoreProperties;
}

/** A socket as far as admitSocket cares: it closes, and it can be destroyed. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

class RecordingLogger extends Logger {
  readonly warnings: string[] = [];
  override warn(msg: string): void {
    this.warnings.push(msg);
  }
}

test('the automatic cap keeps a quarter of the open-file limit, and at least 256 descriptors, free', () => {
  assert.equal(automaticSocketCap(1024), 768);
  assert.equal(automaticSocketCap(20000), 15000);
  assert.equal(automaticSocketCap(300), 150, 'half of a very low limit');
  assert.ok(readOpenFileLimit() >= 64, 'this process has a limit it can read');
});

test('sockets over the cap are destroyed at accept and logged once, and count down as they close', () => {
  setLogLevel('info');
  const stats = new ServerStats();
  const log = new RecordingLogger('test');
  const connections = new ClientConnections(stats, core({ max: 2 }), log, 20000);
  const sockets = [1, 2, 3, 4].map(() => new FakeSocket());
  const admitted = sockets.map((s) => connections.admitSocket(s as unknown as net.Socket));
  assert.deepEqual(admitted, [true, true, false, false]);
  assert.deepEqual(sockets.map((s) => s.destroyed), [false, false, true, true]);
  assert.equal(stats.clientSockets, 2);
  assert.equal(stats.refusedSockets, 2);
  assert.equal(log.warnings.length, 1, 'one line, not one per socket');
  sockets[0]!.emit('close');
  assert.equal(stats.clientSockets, 1);
  assert.equal(connections.admitSocket(new FakeSocket() as unknown as net.Socket), true, 'room again');
});

test('an explicit cap is held 128 descriptors below the open-file limit; 0 is sized from it', () => {
  const stats = new ServerStats();
  assert.equal(new ClientConnections(stats, core({ max: 100000 }), new Logger('test'), 1024).maxSockets, 896);
  assert.equal(new ClientConnections(stats, core({ max: 500 }), new Logger('test'), 1024).maxSockets, 500);
  assert.equal(new ClientConnections(stats, core({ max: 0 }), new Logger('test'), 1024).maxSockets, 768);
});

test('connections of an address: admitted up to the limit, counted down once however often released', () => {
  const stats = new ServerStats();
  const connections = new ClientConnections(stats, core({ perIp: 2 }), new Logger('test'), 20000);
  const a = connections.open('192.0.2.1', 'tcp');
  const b = connections.open('192.0.2.1', 'websocket');
  const c = connections.open('192.0.2.1', null);
  const other = connections.open('192.0.2.2', 'bosh');
  assert.deepEqual([a, b, c, other].map((s) => s.admitted), [true, true, false, true]);
  assert.equal(stats.connections.tcp.current, 1);
  assert.equal(stats.connections.websocket.current, 1);
  c.release();
  c.release();
  b.release();
  assert.equal(stats.connections.websocket.current, 0);
  assert.equal(connections.open('192.0.2.1', 'tcp').admitted, true, 'two released, one counted: room for one more');
  assert.equal(connections.open('192.0.2.1', 'tcp').admitted, false);
  a.release();
  other.release();
  assert.equal(stats.connections.bosh.current, 0);
});
