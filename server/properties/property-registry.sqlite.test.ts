// Two registries on one real database, as two nodes sharing it: a change made by one reaches
// the other through polling alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, setLogLevel } from '../log.ts';
import { openStorage } from '../storage/database.ts';
import { defineCoreProperties } from './core-properties.ts';
import { PropertyRegistry } from './property-registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'xmppd-props-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a value set on one node is seen by another node on the same database', async () => {
  setLogLevel('warn');
  const log = new Logger('test');
  const database = { type: 'sqlite' as const, path: join(dir, 'x.sqlite') };
  const storageA = await openStorage(database, log, { migrate: true });
  const storageB = await openStorage(database, log);
  const a = new PropertyRegistry(storageA.properties, log);
  const b = new PropertyRegistry(storageB.properties, log);
  try {
    const coreA = defineCoreProperties(a);
    const coreB = defineCoreProperties(b);
    await Promise.all([a.load(), b.load()]);
    const seen: number[] = [];
    coreB.sessionMaxPerUser.onChange((v) => seen.push(v));
    b.startPolling(20);

    await a.set('xmpp.session.max-per-user', '500');
    // Two quick changes in a row must not be merged into one the poller cannot see.
    await a.set('xmpp.auth.failure-delay', '3');
    await a.set('xmpp.auth.failure-delay', '4');
    const deadline = Date.now() + 3000;
    while ((coreB.sessionMaxPerUser.value !== 500 || coreB.authFailureDelay.value !== 4) && Date.now() < deadline) await sleep(10);
    assert.equal(coreB.sessionMaxPerUser.value, 500);
    assert.equal(coreB.authFailureDelay.value, 4);
    assert.deepEqual(seen, [500]);

    await a.unset('xmpp.session.max-per-user');
    while (seen.length < 2 && Date.now() < deadline + 3000) await sleep(10);
    assert.deepEqual(seen, [500, 100]);
    assert.equal(coreA.sessionMaxPerUser.value, 100);
    assert.equal(b.get('xmpp.session.max-per-user')?.stored, null);
  } finally {
    await b.stopPolling();
    await storageA.close();
    await storageB.close();
  }
});
