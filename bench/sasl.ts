// Cost of authentication on the server: one PLAIN verification (a PBKDF2 over the stored
// salt) and one SCRAM exchange (HMACs only; the PBKDF2 is the client's work).
// Run: node --import tsx bench/sasl.ts [iterations]
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { deriveUserKeys, verifyPassword, type ScramHash } from '../server/auth/scram-keys.ts';
import { VerifiedPasswordCache } from '../server/auth/verified-password-cache.ts';
import type { SaslContext } from '../server/stream/sasl/mechanism.ts';
import { createMechanism } from '../server/stream/sasl/registry.ts';
import type { UserRecord } from '../server/storage/types.ts';

const iterations = Number(process.argv[2] ?? 4096);
const password = 'pencil';
const user: UserRecord = { username: 'user', ...(await deriveUserKeys(password, iterations)), createdAt: new Date() };
const ctx: SaslContext = { domain: 'example.com', secure: true, fakeSaltSecret: randomBytes(32), lookup: async () => user };

function report(label: string, count: number, ms: number, cpuMicros?: number): void {
  const cpu = cpuMicros === undefined ? '' : `, process CPU ${(cpuMicros / 1000 / count).toFixed(3)} ms each`;
  console.log(`${label}: ${count} in ${ms.toFixed(0)} ms = ${(ms / count).toFixed(3)} ms each, ${Math.round((count * 1000) / ms)}/s${cpu}`);
}

async function benchPlainSequential(count: number): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (!(await verifyPassword(password, user.scramSha256, 'sha256'))) throw new Error('verification failed');
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  report(`PLAIN verify, SHA-256, i=${iterations}, one at a time`, count, ms, cpu.user + cpu.system);
}

async function benchPlainConcurrent(count: number, parallel: number): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < count) await createMechanism('PLAIN', ctx)!.step(Buffer.from(`\0user\0${password}`));
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  report(`PLAIN mechanism, ${parallel} at once (libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4} threads)`, count, performance.now() - t0);
}

/** A returning user whose password the cache has seen: no PBKDF2 at all. */
async function benchPlainCached(count: number): Promise<void> {
  const cached: SaslContext = { ...ctx, passwordCache: new VerifiedPasswordCache(1000) };
  const message = Buffer.from(`\0user\0${password}`);
  await createMechanism('PLAIN', cached)!.step(message);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if ((await createMechanism('PLAIN', cached)!.step(message)).kind !== 'success') throw new Error('login failed');
  }
  report('PLAIN mechanism, password cache hit', count, performance.now() - t0);
}

/** Times only the server's step() calls; the client keeps its salted password, as real clients do. */
async function benchScram(hash: ScramHash, count: number): Promise<void> {
  const name = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
  const keys = hash === 'sha1' ? user.scramSha1 : user.scramSha256;
  const salted = pbkdf2Sync(password, Buffer.from(keys.salt, 'base64'), keys.iterations, hash === 'sha1' ? 20 : 32, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  let serverMs = 0;
  for (let i = 0; i < count; i++) {
    const bare = `n=user,r=client${i}nonce`;
    const mech = createMechanism(name, ctx)!;
    let t = performance.now();
    const first = await mech.step(Buffer.from('n,,' + bare));
    serverMs += performance.now() - t;
    if (first.kind !== 'challenge') throw new Error('unexpected ' + first.kind);
    const serverFirst = first.data.toString();
    const withoutProof = `c=biws,r=${serverFirst.slice(2, serverFirst.indexOf(','))}`;
    const signature = createHmac(hash, storedKey).update(`${bare},${serverFirst},${withoutProof}`).digest();
    const proof = Buffer.from(clientKey.map((x, j) => x ^ signature[j]!)).toString('base64');
    t = performance.now();
    const final = await mech.step(Buffer.from(`${withoutProof},p=${proof}`));
    serverMs += performance.now() - t;
    if (final.kind !== 'success') throw new Error('unexpected ' + final.kind);
  }
  report(`${name} server side of a full exchange`, count, serverMs);
}

console.log(`node ${process.version}, ${cpus().length} CPU(s): ${cpus()[0]?.model ?? 'unknown'}`);
await benchPlainSequential(20); // warm-up
await benchPlainSequential(500);
await benchPlainConcurrent(1000, 50);
await benchPlainCached(20000);
await benchScram('sha256', 2000); // warm-up
await benchScram('sha256', 20000);
await benchScram('sha1', 20000);
