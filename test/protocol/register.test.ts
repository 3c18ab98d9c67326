// XEP-0077 against a real server process, on both databases: creation before login (off by
// default, switched live, bounded per IP), password change and removal after it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../server/xml/element.ts';
import { RawClient, errorCondition } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';

const NS = 'jabber:iq:register';
const registerIq = (user: string, password: string): string =>
  `<iq type='set'><query xmlns='${NS}'><username>${user}</username><password>${password}</password></query></iq>`;

async function canLogin(server: TestServer, user: string, password: string): Promise<boolean> {
  const c = await RawClient.connect(server.c2sPort);
  try {
    await c.open();
    return (await c.authPlain(user, password)).name === 'success';
  } finally {
    c.destroy();
  }
}

/** A fresh unauthenticated stream and its features. */
async function anonymous(server: TestServer): Promise<{ client: RawClient; features: Element }> {
  const client = await RawClient.connect(server.c2sPort);
  return { client, features: await client.open() };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('in-band registration, switched off (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server?.stop());

  test('is not advertised, and get and set are service-unavailable', async () => {
    const { client, features } = await anonymous(server);
    assert.equal(features.getChild('register', 'http://jabber.org/features/iq-register'), undefined);
    const get = await client.iq(`<iq type='get'><query xmlns='${NS}'/></iq>`);
    assert.equal(errorCondition(get), 'service-unavailable');
    const set = await client.iq(registerIq('mallory', 'pw'));
    assert.equal(errorCondition(set), 'service-unavailable');
    assert.equal(await (await server.storage()).users.exists('mallory'), false);
    client.destroy();
  });

  test('any other IQ before authentication still ends the stream', async () => {
    const { client } = await anonymous(server);
    client.send(`<iq type='get' id='x'><query xmlns='jabber:iq:roster'/></iq>`);
    assert.equal(await client.expectStreamError(), 'not-authorized');
    client.destroy();
  });
});

for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`in-band registration (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        dialect,
        properties: { 'xmpp.register.inband.enabled': 'true', 'xmpp.register.inband.max-per-ip': '3' },
      });
      await server.addUser('taken', 'secret');
    });
    after(async () => server?.stop());

    test('is advertised as a stream feature and offers username and password', async () => {
      const { client, features } = await anonymous(server);
      assert.ok(features.getChild('register', 'http://jabber.org/features/iq-register'));
      const form = await client.iq(`<iq type='get' id='reg1'><query xmlns='${NS}'/></iq>`);
      assert.equal(form.attrs.type, 'result');
      const query = form.getChild('query', NS)!;
      assert.ok(query.getChild('username') && query.getChild('password') && query.getChildText('instructions'));
      client.destroy();
    });

    test('creates an account that can then log in, and refuses a taken name with conflict', async () => {
      const { client } = await anonymous(server);
      const created = await client.iq(registerIq('Newbie', 'pässword'));
      assert.equal(created.attrs.type, 'result');
      const again = await client.iq(registerIq('newbie', 'other'));
      assert.equal(errorCondition(again), 'conflict');
      assert.equal(again.getChild('query'), undefined, 'the error does not echo the password');
      client.destroy();
      assert.equal(await canLogin(server, 'newbie', 'pässword'), true);
      assert.equal(await canLogin(server, 'newbie', 'other'), false);
    });

    test('missing fields and bad usernames are not-acceptable', async () => {
      const { client } = await anonymous(server);
      const cases = [
        `<iq type='set'><query xmlns='${NS}'><username>someone</username></query></iq>`,
        `<iq type='set'><query xmlns='${NS}'><password>pw</password></query></iq>`,
        registerIq('someone', ''),
        registerIq('two words', 'pw'),
        registerIq('at@sign', 'pw'),
      ];
      for (const iq of cases) assert.equal(errorCondition(await client.iq(iq)), 'not-acceptable', iq);
      assert.equal(errorCondition(await client.iq(`<iq type='set'><query xmlns='${NS}'><remove/></query></iq>`)), 'unexpected-request');
      client.destroy();
    });

    test('one address may create only a few accounts per minute: then resource-constraint', async () => {
      const { client } = await anonymous(server);
      // The creation test above used one attempt (and the conflict another) from this address.
      const answers: string[] = [];
      for (let i = 0; i < 3; i++) {
        const answer = await client.iq(registerIq(`bulk${i}`, 'pw'));
        answers.push(answer.attrs.type === 'result' ? 'ok' : errorCondition(answer)!);
      }
      assert.equal(answers.at(-1), 'resource-constraint', answers.join(','));
      assert.equal(await (await server.storage()).users.exists('bulk2'), false);
      client.destroy();
    });

    test('a shorter xmpp.register.inband.window, set while running, lets the address create again', async () => {
      const { client } = await anonymous(server);
      assert.equal(errorCondition(await client.iq(registerIq('patient0', 'pw'))), 'resource-constraint', 'the 60 s window is full');
      // The attempts above are seconds old: a 1 s window no longer counts them.
      await server.setProperty('xmpp.register.inband.window', '1');
      let attempt = 1;
      await until('an account can be created again', async () => {
        const answer = await client.iq(registerIq(`patient${attempt++}`, 'pw'));
        return answer.attrs.type === 'result';
      });
      client.destroy();
    });

    test('after login: the account is shown as registered, the password can be changed', async () => {
      await server.addUser('dora', 'old-password');
      const dora = await RawClient.login(server.c2sPort, 'dora', 'old-password');
      const info = await dora.iq(`<iq type='get'><query xmlns='${NS}'/></iq>`);
      assert.ok(info.getChild('query')!.getChild('registered'));
      assert.equal(info.getChild('query')!.getChildText('username'), 'dora');

      const other = await dora.iq(`<iq type='set' to='localhost'><query xmlns='${NS}'><username>taken</username><password>x</password></query></iq>`);
      assert.equal(errorCondition(other), 'forbidden');
      assert.equal(other.getChild('query'), undefined, 'the error does not echo the password');
      const empty = await dora.iq(`<iq type='set' to='localhost'><query xmlns='${NS}'><username>dora</username><password/></query></iq>`);
      assert.equal(errorCondition(empty), 'not-acceptable');
      const incomplete = await dora.iq(`<iq type='set' to='localhost'><query xmlns='${NS}'><password>x</password></query></iq>`);
      assert.equal(errorCondition(incomplete), 'bad-request');

      const changed = await dora.iq(`<iq type='set' to='localhost'><query xmlns='${NS}'><username>dora</username><password>new-password</password></query></iq>`);
      assert.equal(changed.attrs.type, 'result');
      assert.equal(await canLogin(server, 'dora', 'new-password'), true);
      assert.equal(await canLogin(server, 'dora', 'old-password'), false);
      await dora.close();
    });

    test('removal deletes the account and ends all its sessions with not-authorized', async () => {
      await server.addUser('eve', 'secret');
      const first = await RawClient.login(server.c2sPort, 'eve', 'secret', { resource: 'one' });
      const second = await RawClient.login(server.c2sPort, 'eve', 'secret', { resource: 'two' });
      const bad = await first.iq(`<iq type='set'><query xmlns='${NS}'><remove/><username>eve</username></query></iq>`);
      assert.equal(errorCondition(bad), 'bad-request');
      const removed = await first.iq(`<iq type='set'><query xmlns='${NS}'><remove/></query></iq>`);
      assert.equal(removed.attrs.type, 'result');
      assert.equal(await first.expectStreamError(), 'not-authorized');
      assert.equal(await second.expectStreamError(), 'not-authorized');
      await first.closed;
      await second.closed;
      assert.equal(await (await server.storage()).users.exists('eve'), false);
      assert.equal(await canLogin(server, 'eve', 'secret'), false);
    });

    test('switching the property off takes effect live', async () => {
      await server.setProperty('xmpp.register.inband.enabled', 'false');
      await until('registration is refused', async () => {
        const { client } = await anonymous(server);
        const answer = await client.iq(`<iq type='get'><query xmlns='${NS}'/></iq>`);
        client.destroy();
        return errorCondition(answer) === 'service-unavailable';
      });
      const { features, client } = await anonymous(server);
      assert.equal(features.getChild('register'), undefined);
      client.destroy();
    });
  });
}
