// Password guessing across streams and nodes (docs/security.md): two server processes share
// one MariaDB database, as the nodes of a cluster do, and guesses spread over many parallel
// streams, many addresses (127.x.y.z are all this machine) and both nodes are counted
// together, per account and per address.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const ACCOUNT_LIMIT = 5;
const ADDRESS_LIMIT = 5;
const WINDOW = 4; // seconds
const PARALLEL = 40;

/** One stream from `from` to `node` that tries a password with PLAIN; the condition of the answer, or 'success'. */
async function tryPlain(node: TestServer, from: string, user: string, password: string): Promise<{ answer: string; text: string }> {
  const c = await RawClient.connect(node.c2sPort, { localAddress: from });
  try {
    await c.open();
    return outcome(await c.authPlain(user, password));
  } finally {
    c.destroy();
  }
}

function outcome(el: Element): { answer: string; text: string } {
  if (el.name === 'success') return { answer: 'success', text: '' };
  return { answer: el.getChildElements().find((e) => e.name !== 'text')?.name ?? '(none)', text: el.getChildText('text') ?? '' };
}

const count = (answers: { answer: string }[], answer: string): number => answers.filter((a) => a.answer === answer).length;

/** The fail2ban filter of docs/security.md, as a JavaScript regex over a whole log line. */
function documentedFilter(): RegExp[] {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  const section = /^failregex = ([\s\S]*?)\n(?!\s)/m.exec(doc);
  assert.ok(section, 'docs/security.md has a failregex');
  const date = /^datepattern = \{\^LN-BEG\}(.*)$/m.exec(doc);
  assert.ok(date, 'docs/security.md has a datepattern');
  // fail2ban cuts the date (matched by datepattern) out of the line, then applies failregex.
  const datePart = date[1]!.replace(/%%Y-%%m-%%dT%%H:%%M:%%S\\\.%%f%%z/, '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z');
  return section[1]!.split('\n').map((line) => line.trim()).filter(Boolean)
    .map((re) => new RegExp(`^${datePart}${re.replace(/^\^/, '').replace('<HOST>', '(?<host>[0-9a-fA-F:.]+)')}`));
}

describe('SASL guessing throttled per account and per address, across streams and nodes', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    database = await createTestDatabase('mysql');
    const properties = {
      'xmpp.auth.failure-delay': '0',
      'xmpp.auth.throttle.account.max-failures': String(ACCOUNT_LIMIT),
      'xmpp.auth.throttle.address.max-failures': String(ADDRESS_LIMIT),
      'xmpp.auth.throttle.window': String(WINDOW),
    };
    a = await startTestServer({ dialect: 'mysql', database, properties });
    b = await startTestServer({ dialect: 'mysql', database });
    for (const user of ['alice', 'bob', 'carol']) await a.addUser(user, `${user}-pw`);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  test('guesses at one account from many addresses, on both nodes, are refused beyond the limit, even with the right password', async () => {
    // One guess from each of 40 addresses, so no address comes near its own limit.
    const nodes = [a, b];
    const first = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => tryPlain(nodes[i % 2]!, `127.0.1.${i + 1}`, 'alice', `guess-${i}`)));
    assert.equal(count(first, 'not-authorized') + count(first, 'temporary-auth-failure'), PARALLEL, JSON.stringify(first));
    // Attempts at one account take turns on each node, so each node lets at most the limit
    // through; only attempts checked on both nodes at the same moment can add to it.
    assert.ok(count(first, 'not-authorized') >= ACCOUNT_LIMIT, 'the guesses up to the limit were checked');
    assert.ok(count(first, 'not-authorized') <= 2 * ACCOUNT_LIMIT, `${count(first, 'not-authorized')} guesses were checked`);

    const second = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => tryPlain(nodes[i % 2]!, `127.0.2.${i + 1}`, 'alice', `again-${i}`)));
    assert.equal(count(second, 'temporary-auth-failure'), PARALLEL, JSON.stringify(second));
    assert.match(second[0]!.text, /^Too many failed authentication attempts; try again in [1-4] seconds$/);

    for (const node of nodes) {
      assert.deepEqual(await tryPlain(node, '127.0.3.1', 'alice', 'alice-pw').then((r) => r.answer), 'temporary-auth-failure',
        'the right password is not even checked while the account is throttled');
    }
    // SCRAM is refused where the proof would be checked, whatever the proof.
    const c = await RawClient.connect(b.c2sPort, { localAddress: '127.0.3.2' });
    await c.open();
    const serverFirst = c.expect((el) => el.name === 'failure' || el.name === 'challenge');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${Buffer.from('n,,n=alice,r=abcdefghijkl').toString('base64')}</auth>`);
    const challenge = await serverFirst;
    assert.equal(challenge.name, 'challenge');
    const nonce = /r=([^,]+)/.exec(Buffer.from(challenge.getText(), 'base64').toString())![1]!;
    const final = Buffer.from(`c=biws,r=${nonce},p=${Buffer.alloc(32).toString('base64')}`).toString('base64');
    const refusal = c.expect((el) => el.name === 'failure' || el.name === 'success');
    c.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${final}</response>`);
    assert.equal(outcome(await refusal).answer, 'temporary-auth-failure');
    c.destroy();

    assert.equal((await tryPlain(a, '127.0.1.1', 'bob', 'bob-pw')).answer, 'success', 'another account logs in, from a guessing address too');

    assert.match(a.logs() + b.logs(), /WARN  \[c2s\] authentication failed address=127\.0\.1\.\d+ user=alice mechanism=PLAIN condition=not-authorized\n/);
    assert.match(a.logs() + b.logs(), /WARN  \[c2s\] authentication throttled address=127\.0\.2\.\d+ user=alice mechanism=PLAIN by=account retry-after=\d+\n/);
  });

  test('after the window the account logs in again, and the success clears its count', async () => {
    await sleep(WINDOW * 1000 + 200);
    assert.equal((await tryPlain(b, '127.0.4.1', 'alice', 'alice-pw')).answer, 'success');
    for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) assert.equal((await tryPlain(a, `127.0.4.${i + 2}`, 'alice', 'wrong')).answer, 'not-authorized');
    assert.equal((await tryPlain(b, '127.0.4.20', 'alice', 'alice-pw')).answer, 'success', 'still under the limit');
    for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) assert.equal((await tryPlain(a, `127.0.4.${i + 30}`, 'alice', 'wrong')).answer, 'not-authorized',
      'the success cleared the failures before it');
  });

  test('guesses from one address at many accounts, known or not, are refused beyond the limit; other addresses are not', async () => {
    const from = '127.0.5.1';
    const nodes = [a, b];
    const users = (i: number): string => (i % 4 === 0 ? 'carol' : `nobody${i}`);
    const first = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => tryPlain(nodes[i % 2]!, from, users(i), `guess-${i}`)));
    assert.equal(count(first, 'not-authorized') + count(first, 'temporary-auth-failure'), PARALLEL, JSON.stringify(first));

    const second = await Promise.all(Array.from({ length: 8 }, (_, i) => tryPlain(nodes[i % 2]!, from, i % 2 ? 'unknown-user' : 'bob', 'bob-pw')));
    assert.deepEqual(second.map((r) => r.answer), new Array(8).fill('temporary-auth-failure'),
      'a known account with its right password and an unknown one get the same answer');
    assert.equal((await tryPlain(b, '127.0.5.2', 'bob', 'bob-pw')).answer, 'success', 'the account is free from another address');
    assert.match(a.logs() + b.logs(), /WARN  \[c2s\] authentication throttled address=127\.0\.5\.1 user=bob mechanism=PLAIN by=address retry-after=\d+\n/);
  });

  test('the fail2ban filter of docs/security.md matches the failures and throttled attempts, and reads the right address', () => {
    const filter = documentedFilter();
    const lines = (a.logs() + b.logs()).split('\n');
    const hosts = lines.flatMap((line) => filter.map((re) => re.exec(line)?.groups?.host).filter((h): h is string => !!h).slice(0, 1));
    const failed = lines.filter((l) => l.includes(' authentication failed ') && l.includes('condition=not-authorized')).length;
    const throttled = lines.filter((l) => l.includes(' authentication throttled ')).length;
    assert.ok(failed >= ACCOUNT_LIMIT && throttled >= PARALLEL);
    assert.equal(hosts.length, failed + throttled, 'every failure and throttled attempt is matched once');
    assert.ok(hosts.includes('127.0.5.1') && hosts.includes('127.0.2.7'));
    assert.ok(hosts.every((h) => h.startsWith('127.0.')), hosts.join(' '));
  });
});
