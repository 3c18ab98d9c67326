// Strophe.js, unmodified from npm, logs in over BOSH (SCRAM, stream restart, bind) and
// exchanges messages with a TCP user, receiving them by long poll; a wrong password is
// reported to it as an authentication failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { $msg, $pres, Strophe } from 'strophe.js';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { installXMLHttpRequest } from './node-xhr.ts';

installXMLHttpRequest();
Strophe.setLogLevel(Strophe.LogLevel.WARN);

let server: TestServer;

before(async () => {
  server = await startTestServer();
  await server.addUser('alice', 'secret');
  await server.addUser('bob', 'secret');
});

after(async () => {
  await server?.stop();
});

type Connection = InstanceType<typeof Strophe.Connection>;

/** Connects and resolves once Strophe reports CONNECTED; rejects on any failure status. */
function connect(jid: string, password: string): Promise<Connection> {
  const conn = new Strophe.Connection(`http://127.0.0.1:${server.httpPort}/http-bind`);
  return new Promise((resolve, reject) => {
    conn.connect(jid, password, (status: number, condition?: string | null) => {
      if (status === Strophe.Status.CONNECTED) resolve(conn);
      else if (status === Strophe.Status.AUTHFAIL || status === Strophe.Status.CONNFAIL || status === Strophe.Status.ERROR) {
        // Strophe keeps its session (and its poll timer) until told to end it, as a web
        // page would after showing the error.
        conn.disconnect('failed');
        reject(new Error(`Strophe status ${status} ${condition ?? ''}`));
      }
    }, 10, 1);
  });
}

function disconnect(conn: Connection): Promise<void> {
  return new Promise((resolve) => {
    conn.connect_callback = (status: number) => {
      if (status === Strophe.Status.DISCONNECTED) resolve();
    };
    conn.disconnect('done');
  });
}

test('Strophe.js logs in over BOSH and exchanges messages with a TCP user', async () => {
  const bob = await connect('bob@localhost/strophe', 'secret');
  assert.equal(bob.jid, 'bob@localhost/strophe');
  assert.equal(bob.authenticated, true);
  const received: Element[] = [];
  const arrived = new Promise<void>((resolve) => {
    bob.addHandler((stanza: Element) => {
      received.push(stanza);
      resolve();
      return true;
    }, null, 'message', 'chat');
  });
  bob.send($pres());

  const alice = await RawClient.login(server.c2sPort, 'alice', 'secret', { resource: 'tcp' });
  try {
    // Strophe is now idle with a request held open: the message must come back on it.
    await new Promise((r) => setTimeout(r, 500));
    alice.send(`<message to='bob@localhost/strophe' type='chat' id='t1'><body>hello Strophe</body></message>`);
    await arrived;
    const body = received[0]!.getElementsByTagName('body')[0]!;
    assert.equal(body.textContent, 'hello Strophe');
    assert.equal(received[0]!.getAttribute('from'), alice.jid);

    bob.send($msg({ to: alice.jid, type: 'chat' }).c('body').t('hello TCP'));
    const got = await alice.expect((el) => el.name === 'message');
    assert.equal(got.getChildText('body'), 'hello TCP');
    assert.equal(got.attrs.from, 'bob@localhost/strophe');
  } finally {
    await alice.close();
  }
  await disconnect(bob);
  const status = await (await fetch(`http://127.0.0.1:${server.httpPort}/status`)).json() as { connections: { bosh: { current: number } } };
  assert.equal(status.connections.bosh.current, 0, 'the BOSH session ended with the disconnect');
});

test('Strophe.js learns of a wrong password as an authentication failure', async () => {
  await assert.rejects(connect('bob@localhost/strophe', 'wrong'), new RegExp(`Strophe status ${Strophe.Status.AUTHFAIL}`));
});
