import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientConfigError, readClientSettings, toClientConfig } from './client-config.ts';

const SHIPPED = fileURLToPath(new URL('../../../conf/hazelcast/hazelcast-client.xml', import.meta.url));

function clientXml(retry: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-client-config-'));
  const file = join(dir, 'client.xml');
  writeFileSync(file, `<hazelcast-client xmlns="http://www.hazelcast.com/schema/client-config">
  <cluster-name>c</cluster-name>
  <connection-strategy><connection-retry>${retry}</connection-retry></connection-strategy>
</hazelcast-client>`);
  return file;
}

const files: string[] = [];
const read = (retry: string) => {
  const file = clientXml(retry);
  files.push(file);
  return readClientSettings(file);
};
test.after(() => {
  for (const f of files) rmSync(join(f, '..'), { recursive: true, force: true });
});

test('the reconnection backoff of the file reaches the Hazelcast client', () => {
  const settings = read(`<initial-backoff-millis>250</initial-backoff-millis><max-backoff-millis>8000</max-backoff-millis>
    <multiplier>1.5</multiplier><jitter>0.3</jitter><cluster-connect-timeout-millis>60000</cluster-connect-timeout-millis>`);
  assert.deepEqual(toClientConfig(settings).connectionStrategy?.connectionRetry, {
    clusterConnectTimeoutMillis: 60_000, initialBackoffMillis: 250, maxBackoffMillis: 8000, multiplier: 1.5, jitter: 0.3,
  });
});

test('the shipped client configuration is read as it says', () => {
  assert.deepEqual(readClientSettings(SHIPPED).backoff, { initialMs: 500, maxMs: 5000, multiplier: 2, jitter: 0.2 });
});

test('left out, the backoff takes the defaults', () => {
  assert.deepEqual(read('').backoff, { initialMs: 500, maxMs: 5000, multiplier: 2, jitter: 0 });
});

test('a backoff value out of Hazelcast\'s bounds names the file and the setting', () => {
  for (const [retry, message] of [
    ['<jitter>1.5</jitter>', /jitter must be a number from 0 to 1, not "1.5"/],
    ['<multiplier>0.5</multiplier>', /multiplier must be a number of at least 1, not "0.5"/],
    ['<multiplier>fast</multiplier>', /multiplier must be a number/],
    ['<initial-backoff-millis>-1</initial-backoff-millis>', /initial-backoff-millis must be a positive whole number of milliseconds/],
    ['<initial-backoff-millis>900</initial-backoff-millis><max-backoff-millis>800</max-backoff-millis>', /max-backoff-millis \(800\) is below initial-backoff-millis \(900\)/],
  ] as const) {
    assert.throws(() => read(retry), (err: unknown) => err instanceof ClientConfigError && message.test(err.message) && err.message.includes('client.xml'), retry);
  }
});
