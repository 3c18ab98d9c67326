// The benchmark's SCRAM client against the server's own mechanism, in process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { deriveUserKeys } from '../../server/auth/scram-keys.ts';
import type { SaslContext } from '../../server/stream/sasl/mechanism.ts';
import { createMechanism } from '../../server/stream/sasl/registry.ts';
import { ScramExchange, ScramKeyCache } from './scram-client.ts';

for (const [hash, name] of [['sha256', 'SCRAM-SHA-256'], ['sha1', 'SCRAM-SHA-1']] as const) {
  test(`${name}: a full exchange succeeds and the server signature verifies`, async () => {
    const user = { username: 'alice', ...(await deriveUserKeys('secret', 4096)), createdAt: new Date() };
    const ctx: SaslContext = { domain: 'localhost', secure: true, fakeSaltSecret: randomBytes(32), lookup: async () => user };
    const server = createMechanism(name, ctx)!;
    const client = new ScramExchange(hash, 'alice', 'secret', new ScramKeyCache());
    const first = await server.step(Buffer.from(client.firstMessage()));
    assert.equal(first.kind, 'challenge');
    const final = await server.step(Buffer.from(client.finalMessage((first as { data: Buffer }).data.toString())));
    assert.equal(final.kind, 'success');
    client.checkServerFinal((final as { additionalData?: Buffer }).additionalData!.toString());
  });
}

test('a wrong password is refused by the server', async () => {
  const user = { username: 'alice', ...(await deriveUserKeys('secret', 4096)), createdAt: new Date() };
  const server = createMechanism('SCRAM-SHA-256', { domain: 'localhost', secure: true, fakeSaltSecret: randomBytes(32), lookup: async () => user })!;
  const client = new ScramExchange('sha256', 'alice', 'wrong', new ScramKeyCache());
  const first = await server.step(Buffer.from(client.firstMessage()));
  const final = await server.step(Buffer.from(client.finalMessage((first as { data: Buffer }).data.toString())));
  assert.equal(final.kind, 'failure');
});

test('a forged server signature is detected', () => {
  const client = new ScramExchange('sha256', 'alice', 'secret', new ScramKeyCache());
  const nonce = /r=([^,]+)/.exec(client.firstMessage())![1]!;
  client.finalMessage(`r=${nonce}server,s=${Buffer.from('salt').toString('base64')},i=4096`);
  assert.throws(() => client.checkServerFinal(`v=${Buffer.alloc(32).toString('base64')}`), /does not verify/);
});

test('a server nonce that does not extend ours is refused', () => {
  const client = new ScramExchange('sha256', 'alice', 'secret', new ScramKeyCache());
  assert.throws(() => client.finalMessage('r=other,s=c2FsdA==,i=4096'), /bad server-first-message/);
});
