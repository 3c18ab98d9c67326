import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { deriveScramKeys, type ScramHash } from '../../auth/scram-keys.ts';
import type { UserRecord } from '../../storage/types.ts';
import type { SaslContext, SaslStep } from './mechanism.ts';
import { createMechanism } from './registry.ts';

// RFC 5802 section 5 and RFC 7677 section 3: user "user", password "pencil".
const RFC5802 = {
  salt: 'QSXCR+Q6sek8bf92',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverNonce: '3rfcNHYJY1ZVvWVs7j',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};
const RFC7677 = {
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

async function makeUser(username: string, password: string): Promise<UserRecord> {
  return {
    username,
    scramSha1: await deriveScramKeys(password, 'sha1', 4096, Buffer.from(RFC5802.salt, 'base64')),
    scramSha256: await deriveScramKeys(password, 'sha256', 4096, Buffer.from(RFC7677.salt, 'base64')),
    createdAt: new Date(0),
  };
}

const users = new Map<string, UserRecord>([
  ['user', await makeUser('user', 'pencil')],
  ['a,b=c', await makeUser('a,b=c', 'escaped')],
]);

const ctx: SaslContext = {
  domain: 'example.com',
  secure: true,
  fakeSaltSecret: randomBytes(32),
  lookup: async (name) => users.get(name) ?? null,
};

function mech(name: string, context: SaslContext = ctx, serverNonce?: string) {
  const m = createMechanism(name, context, serverNonce === undefined ? {} : { serverNonce: () => serverNonce });
  assert.ok(m);
  return m;
}

const b = (s: string) => Buffer.from(s);

function challengeText(step: SaslStep): string {
  assert.equal(step.kind, 'challenge', JSON.stringify(step));
  return (step as { data: Buffer }).data.toString();
}

function assertFailure(step: SaslStep, condition: string): void {
  assert.equal(step.kind, 'failure', JSON.stringify(step));
  assert.equal((step as { condition: string }).condition, condition, JSON.stringify(step));
}

/** A SCRAM client written from RFC 5802 section 3, independent of the server code. */
class TestClient {
  readonly nonce = randomBytes(18).toString('base64');
  private bare = '';
  private serverSignature = '';

  constructor(
    private readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    readonly gs2Header = 'n,,',
  ) {}

  first(): string {
    const name = this.username.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.bare = `n=${name},r=${this.nonce}`;
    return this.gs2Header + this.bare;
  }

  final(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
    assert.ok(attrs.r!.startsWith(this.nonce), 'server nonce extends the client nonce');
    const len = this.hash === 'sha1' ? 20 : 32;
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), len, this.hash);
    const clientKey = createHmac(this.hash, salted).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(this.gs2Header).toString('base64')},r=${attrs.r}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((x, i) => x ^ signature[i]!));
    const serverKey = createHmac(this.hash, salted).update('Server Key').digest();
    this.serverSignature = createHmac(this.hash, serverKey).update(authMessage).digest('base64');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verify(serverFinal: string): boolean {
    return serverFinal === `v=${this.serverSignature}`;
  }
}

async function exchange(name: string, client: TestClient, context: SaslContext = ctx): Promise<SaslStep> {
  const m = mech(name, context);
  const first = await m.step(b(client.first()));
  if (first.kind !== 'challenge') return first;
  const final = await m.step(b(client.final(first.data.toString())));
  if (final.kind === 'success') assert.ok(client.verify(final.additionalData!.toString()), 'server signature verifies');
  return final;
}

test('RFC 7677 section 3 example (SCRAM-SHA-256) reproduces exactly', async () => {
  const m = mech('SCRAM-SHA-256', ctx, RFC7677.serverNonce);
  assert.equal(m.name, 'SCRAM-SHA-256');
  assert.equal(challengeText(await m.step(b(RFC7677.clientFirst))), RFC7677.serverFirst);
  const done = await m.step(b(RFC7677.clientFinal));
  assert.deepEqual(done, { kind: 'success', username: 'user', additionalData: b(RFC7677.serverFinal) });
});

test('RFC 5802 section 5 example (SCRAM-SHA-1) reproduces exactly', async () => {
  const m = mech('SCRAM-SHA-1', ctx, RFC5802.serverNonce);
  assert.equal(challengeText(await m.step(b(RFC5802.clientFirst))), RFC5802.serverFirst);
  const done = await m.step(b(RFC5802.clientFinal));
  assert.deepEqual(done, { kind: 'success', username: 'user', additionalData: b(RFC5802.serverFinal) });
});

test('without an initial response the server sends an empty challenge first', async () => {
  const m = mech('SCRAM-SHA-256', ctx, RFC7677.serverNonce);
  assert.deepEqual(await m.step(null), { kind: 'challenge', data: Buffer.alloc(0) });
  assert.equal(challengeText(await m.step(b(RFC7677.clientFirst))), RFC7677.serverFirst);
  assert.equal((await m.step(b(RFC7677.clientFinal))).kind, 'success');
});

test('full exchange with a client written from the RFC, both hashes, random nonces', async () => {
  for (const [name, hash] of [['SCRAM-SHA-256', 'sha256'], ['SCRAM-SHA-1', 'sha1']] as const) {
    const result = await exchange(name, new TestClient(hash, 'user', 'pencil'));
    assert.equal(result.kind, 'success', name);
    assert.equal((result as { username: string }).username, 'user');
  }
});

test('the server nonce is the client nonce plus 24 random bytes in base64', async () => {
  const client = new TestClient('sha256', 'user', 'pencil');
  const first = challengeText(await mech('SCRAM-SHA-256').step(b(client.first())));
  const nonce = /^r=([^,]+),s=[^,]+,i=4096$/.exec(first)![1]!;
  assert.ok(nonce.startsWith(client.nonce));
  assert.equal(Buffer.from(nonce.slice(client.nonce.length), 'base64').length, 24);
});

test('a third-party client (sasl-scram-sha-1, used by xmpp.js) authenticates', async () => {
  const Client = createRequire(import.meta.url)('sasl-scram-sha-1');
  const client = new Client();
  const cred = { username: 'user', password: 'pencil' };
  const m = mech('SCRAM-SHA-1');
  const first = await m.step(b(client.response(cred)));
  client.challenge(challengeText(first));
  const done = await m.step(b(await client.response(cred)));
  assert.equal(done.kind, 'success');
  client.challenge((done as { additionalData: Buffer }).additionalData.toString());
  assert.equal(client._verifier, Buffer.from(client._serverSignature).toString('base64'), 'client accepts the server signature');
});

test('the username is prepared: case folded, =2C and =3D unescaped', async () => {
  const upper = await exchange('SCRAM-SHA-256', new TestClient('sha256', 'USER', 'pencil'));
  assert.equal((upper as { username: string }).username, 'user');
  const escaped = await exchange('SCRAM-SHA-256', new TestClient('sha256', 'a,b=c', 'escaped'));
  assert.deepEqual({ ...escaped, additionalData: undefined }, { kind: 'success', username: 'a,b=c', additionalData: undefined });
});

test('the y flag (client could bind, thinks the server cannot) is accepted', async () => {
  const result = await exchange('SCRAM-SHA-256', new TestClient('sha256', 'user', 'pencil', 'y,,'));
  assert.equal(result.kind, 'success');
});

test('a request for channel binding (p=) fails with not-authorized: no -PLUS is offered', async () => {
  const client = new TestClient('sha256', 'user', 'pencil', 'p=tls-exporter,,');
  const result = await mech('SCRAM-SHA-256').step(b(client.first()));
  assertFailure(result, 'not-authorized');
  assert.match((result as { text: string }).text, /channel binding/);
});

test('wrong password fails with not-authorized at the proof', async () => {
  for (const [name, hash] of [['SCRAM-SHA-256', 'sha256'], ['SCRAM-SHA-1', 'sha1']] as const) {
    assertFailure(await exchange(name, new TestClient(hash, 'user', 'pen')), 'not-authorized');
  }
});

test('unknown user: a challenge shaped like a real one, stable per name, then not-authorized', async () => {
  const salts = async (username: string, name = 'SCRAM-SHA-256') => {
    const client = new TestClient('sha256', username, 'x');
    const first = challengeText(await mech(name).step(b(client.first())));
    const m = /^r=([^,]+),s=([^,]+),i=(\d+)$/.exec(first);
    assert.ok(m, first);
    assert.equal(m[1]!.length, client.nonce.length + 32);
    assert.equal(m[3], '4096');
    assert.equal(Buffer.from(m[2]!, 'base64').length, 16);
    return m[2]!;
  };
  assert.equal(await salts('nobody'), await salts('nobody'));
  assert.notEqual(await salts('nobody'), await salts('somebody'));
  assert.notEqual(await salts('nobody'), await salts('nobody', 'SCRAM-SHA-1'));

  const result = await exchange('SCRAM-SHA-256', new TestClient('sha256', 'nobody', 'pencil'));
  assertFailure(result, 'not-authorized');
  assert.equal((result as { text?: string }).text, undefined, 'nothing tells an unknown user from a wrong password');
});

test('unknown user: the salt depends on the shared secret only, so every node shows the same one', async () => {
  const salt = async (context: SaslContext) => {
    const client = new TestClient('sha256', 'nobody', 'x');
    return /,s=([^,]+),/.exec(challengeText(await mech('SCRAM-SHA-256', context).step(b(client.first()))))![1];
  };
  const otherNode = { ...ctx, fakeSaltSecret: Buffer.from(ctx.fakeSaltSecret) };
  assert.equal(await salt(ctx), await salt(otherNode));
  assert.notEqual(await salt(ctx), await salt({ ...ctx, fakeSaltSecret: randomBytes(32) }));
});

test('unknown user: the configured iteration count is shown', async () => {
  const m = mech('SCRAM-SHA-256', { ...ctx, iterations: 10000 });
  assert.match(challengeText(await m.step(b('n,,n=nobody,r=abc'))), /,i=10000$/);
});

test('a username that cannot be a localpart fails with not-authorized', async () => {
  assertFailure(await mech('SCRAM-SHA-256').step(b('n,,n=a@b,r=abc')), 'not-authorized');
  assertFailure(await mech('SCRAM-SHA-256').step(b('n,,n=a b,r=abc')), 'not-authorized');
});

test('storage errors become temporary-auth-failure, never a throw', async () => {
  const broken: SaslContext = { ...ctx, lookup: async () => { throw new Error('database down'); } };
  assertFailure(await mech('SCRAM-SHA-256', broken).step(b('n,,n=user,r=abc')), 'temporary-auth-failure');
});

test('authzid: the user itself is accepted, anybody else is invalid-authzid', async () => {
  for (const authzid of ['user@example.com', 'USER@Example.COM']) {
    const result = await exchange('SCRAM-SHA-256', new TestClient('sha256', 'user', 'pencil', `n,a=${authzid},`));
    assert.equal(result.kind, 'success', authzid);
  }
  for (const authzid of ['other@example.com', 'user@example.org', 'user@example.com/res', 'example.com']) {
    assertFailure(await exchange('SCRAM-SHA-256', new TestClient('sha256', 'user', 'pencil', `n,a=${authzid},`)), 'invalid-authzid');
  }
  // Authentication comes first: a wrong password with a foreign authzid says not-authorized.
  assertFailure(await exchange('SCRAM-SHA-256', new TestClient('sha256', 'user', 'x', 'n,a=other@example.com,')), 'not-authorized');
});

test('malformed client-first messages fail with malformed-request', async () => {
  const cases = [
    'garbage',
    '',
    'n,,',
    'x,,n=user,r=abc',
    'n,b=user,r=abc',
    'n,a=,n=user,r=abc',
    'n,,r=abc,n=user',
    'n,,n=user',
    'n,,n=user,r=',
    'n,,n=,r=abc',
    'n,,n=us=er,r=abc',
    'n,,n=user,r=ab\u00e9c',
    'n,,m=ext,n=user,r=abc',
    'n,,n=user,r=abc,!!',
  ];
  for (const message of cases) {
    assertFailure(await mech('SCRAM-SHA-256').step(b(message)), 'malformed-request');
  }
  assertFailure(await mech('SCRAM-SHA-256').step(Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe])), 'malformed-request');
});

test('malformed client-final messages fail with malformed-request', async () => {
  const final = async (makeFinal: (good: string) => string) => {
    const client = new TestClient('sha256', 'user', 'pencil');
    const m = mech('SCRAM-SHA-256');
    const good = client.final(challengeText(await m.step(b(client.first()))));
    return m.step(b(makeFinal(good)));
  };
  const withoutProof = (s: string) => s.slice(0, s.lastIndexOf(',p='));
  const proofOf = (s: string) => s.slice(s.lastIndexOf(',p=') + 3);
  const cases: Array<[string, (good: string) => string]> = [
    ['garbage', () => 'garbage'],
    ['no proof', (g) => withoutProof(g)],
    ['no channel binding', (g) => g.slice(g.indexOf(',') + 1)],
    ['attributes out of order', (g) => { const [c, r, p] = g.split(','); return [r, c, p].join(','); }],
    ['wrong nonce', (g) => g.replace(/,r=([^,]+)/, ',r=$1x')],
    ['truncated nonce', (g) => g.replace(/,r=([^,]+)/, (_, n: string) => `,r=${n.slice(0, -1)}`)],
    ['bad base64 in c=', () => 'c=bi!s,r=x,p=AAAA'],
    ['channel binding of another header', (g) => g.replace('c=biws', `c=${Buffer.from('y,,').toString('base64')}`)],
    ['proof not base64', (g) => `${withoutProof(g)},p=@@@@`],
    ['proof unpadded', (g) => `${withoutProof(g)},p=${proofOf(g).replace(/=+$/, '')}`],
    ['proof too short', (g) => `${withoutProof(g)},p=${Buffer.alloc(20).toString('base64')}`],
    ['empty', () => ''],
  ];
  for (const [label, make] of cases) {
    const result = await final(make);
    assertFailure(result, 'malformed-request');
    assert.ok((result as { text?: string }).text, label);
  }
});

test('nothing more is accepted once the exchange is over', async () => {
  const m = mech('SCRAM-SHA-256', ctx, RFC7677.serverNonce);
  await m.step(b(RFC7677.clientFirst));
  assert.equal((await m.step(b(RFC7677.clientFinal))).kind, 'success');
  assertFailure(await m.step(b(RFC7677.clientFinal)), 'malformed-request');

  const failed = mech('SCRAM-SHA-256');
  assertFailure(await failed.step(b('garbage')), 'malformed-request');
  assertFailure(await failed.step(b(RFC7677.clientFirst)), 'malformed-request');
});

test('a replayed client-final does not authenticate a new exchange', async () => {
  // Same client nonce, but the server picks a new random part, so the old proof is for another nonce.
  const m = mech('SCRAM-SHA-256');
  await m.step(b(RFC7677.clientFirst));
  assertFailure(await m.step(b(RFC7677.clientFinal)), 'malformed-request');
});

test('admit is asked with the prepared name at the client-final message, and its refusal is the answer whatever the proof', async () => {
  const asked: string[] = [];
  let refuse = true;
  const context: SaslContext = {
    ...ctx,
    admit: async (name) => {
      asked.push(name);
      return refuse ? { kind: 'failure', condition: 'temporary-auth-failure', text: 'wait' } : null;
    },
  };
  for (const hash of ['sha1', 'sha256'] as const) {
    const name = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
    refuse = true;
    assert.deepEqual(await exchange(name, new TestClient(hash, 'User', 'pencil'), context), { kind: 'failure', condition: 'temporary-auth-failure', text: 'wait' });
    const m = mech(name, context);
    const first = await m.step(b(new TestClient(hash, 'user', 'pencil').first()));
    assert.equal(first.kind, 'challenge', 'the first round is the same as without admit');
    refuse = false;
    assert.equal((await exchange(name, new TestClient(hash, 'user', 'pencil'), context)).kind, 'success');
    assertFailure(await exchange(name, new TestClient(hash, 'user', 'wrong'), context), 'not-authorized');
  }
  assert.deepEqual(asked, ['user', 'user', 'user', 'user', 'user', 'user']);
});
