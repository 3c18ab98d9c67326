// Every end of a client session is one info line in the server's log naming the JID, the
// client's address and why it ended: a logout, a dropped connection, a stream error on
// either side, a session replaced, an account removed. Against a real server process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer } from '../helpers/server-process.ts';
import { waitFor } from '../plugins/fixtures.ts';

test('logouts and disconnects are logged at info with the JID, the address and the reason', async () => {
  const server = await startTestServer();
  try {
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await server.addUser(u, 'secret');
    const line = (jid: string, reason: string): RegExp =>
      new RegExp(` INFO  \\[sessions\\] client session ended jid=${jid.replace(/[.]/g, '\\.')} address=127\\.0\\.0\\.1 transport=tcp reason=${reason}\\n`);
    const logged = (jid: string, reason: string): Promise<boolean> =>
      waitFor(() => line(jid, reason).test(server.logs()), 5_000, `the log line for ${jid} (${reason})`);

    const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'desk' });
    await alice.close();
    await logged('alice@localhost/desk', '"logged out"');

    const bob = await RawClient.login(server.c2sPort, 'bob', 'secret', { resource: 'phone' });
    bob.destroy();
    await logged('bob@localhost/phone', '"connection lost"');

    const first = await RawClient.login(server.c2sPort, 'carol', 'secret', { resource: 'r' });
    const second = await RawClient.login(server.c2sPort, 'carol', 'secret', { resource: 'r' });
    assert.equal(await first.expectStreamError(), 'conflict');
    await logged('carol@localhost/r', '"replaced by a new session \\(conflict\\)"');
    await second.close();

    const dave = await RawClient.login(server.c2sPort, 'dave', 'secret', { resource: 'r' });
    dave.send('<message><unclosed></message>');
    assert.equal(await dave.expectStreamError(), 'not-well-formed');
    await logged('dave@localhost/r', '"stream error not-well-formed"');

    const erin = await RawClient.login(server.c2sPort, 'erin', 'secret', { resource: 'r' });
    erin.send("<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    await logged('erin@localhost/r', '"client stream error policy-violation"');
    erin.destroy();
  } finally {
    await server.stop();
  }
});
