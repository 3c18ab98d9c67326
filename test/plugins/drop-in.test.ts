// Openfire's model against a real server process: put an archive in the plugins folder and
// it is installed; put a newer one there and it upgrades while clients stay connected;
// remove it and it is gone, its public HTTP route included. No restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer } from '../helpers/server-process.ts';
import { dropFile, exampleArchive, waitFor } from './fixtures.ts';

const NS_ECHO = 'urn:xmppd:example:echo';
const SCAN_SECONDS = 1;

test('drop in, upgrade live with a client connected, remove', async () => {
  const server = await startTestServer({ properties: { 'plugins.scan-interval': String(SCAN_SECONDS) } });
  let client: RawClient | null = null;
  try {
    await server.addUser('alice', 'secret');
    client = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'desk' });
    const c = client;
    const features = async (): Promise<string[]> => {
      const info = await c.iq("<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
      return info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var!);
    };
    const echo = (text: string) => c.iq(`<iq type='get' to='localhost'><echo xmlns='${NS_ECHO}'>${text}</echo></iq>`);
    // The example's public route on the client HTTP listener.
    const hello = async (): Promise<{ status: number; body: any }> => {
      const res = await fetch(`http://127.0.0.1:${server.httpPort}/plugins/example/hello`);
      return { status: res.status, body: await res.json() };
    };

    assert.ok(!(await features()).includes(NS_ECHO));
    const before = await echo('hi');
    assert.equal(before.attrs.type, 'error');
    assert.ok(before.getChild('error')!.getChild('service-unavailable'), 'nobody answers the echo namespace yet');
    assert.deepEqual(await hello(), {
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'plugin example has no route GET /hello' },
    });

    // Dropped in: the feature appears within the scan interval (file events make it sooner).
    const dropped = Date.now();
    dropFile(server.pluginsDir, 'example.tgz', await exampleArchive(1));
    await waitFor(async () => (await features()).includes(NS_ECHO), SCAN_SECONDS * 1000 + 2000, 'the echo feature in disco');
    assert.ok(Date.now() - dropped < SCAN_SECONDS * 1000 + 2000);
    const v1 = await echo('hello');
    assert.equal(v1.attrs.type, 'result', String(v1));
    assert.equal(v1.getChild('echo', NS_ECHO)!.getText(), 'hello');
    assert.equal(v1.getChild('echo', NS_ECHO)!.attrs.version, '1.0.0');
    assert.deepEqual(await hello(), { status: 200, body: { service: 'echo', xmlns: NS_ECHO, version: '1.0.0' } });

    // Version 2 (its echo shouts) replaces version 1 while the same client stays connected.
    dropFile(server.pluginsDir, 'example.tgz', await exampleArchive(2));
    const v2 = await waitFor(async () => {
      const r = await echo('hello');
      return r.getChild('echo', NS_ECHO)?.attrs.version === '2.0.0' ? r : null;
    }, SCAN_SECONDS * 1000 + 3000, 'version 2 to answer');
    assert.equal(v2.getChild('echo', NS_ECHO)!.getText(), 'HELLO', 'the new code runs');
    assert.equal((await features()).filter((f) => f === NS_ECHO).length, 1, 'one feature, not one per version');
    assert.equal((await hello()).body.version, '2.0.0', 'the route of the new version answers, not a leftover of the old');
    assert.equal(c.streamEnded, false, 'the client was never disconnected');
    assert.match(c.jid, /^alice@localhost\/desk$/);
    const ping = await c.iq("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.equal(ping.attrs.type, 'result');

    // Removed: the feature and the handler are gone.
    unlinkSync(join(server.pluginsDir, 'example.tgz'));
    await waitFor(async () => !(await features()).includes(NS_ECHO), SCAN_SECONDS * 1000 + 2000, 'the echo feature to go');
    const after = await echo('hello');
    assert.equal(after.attrs.type, 'error');
    assert.ok(after.getChild('error')!.getChild('service-unavailable'));
    assert.equal((await hello()).status, 404, 'the public route went with the plugin');
    assert.equal(c.streamEnded, false);
    assert.match(server.logs(), /plugin loaded name=example version=2\.0\.0/);
    assert.match(server.logs(), /plugin unloaded name=example version=1\.0\.0/);
  } finally {
    await client?.close();
    await server.stop();
  }
});
