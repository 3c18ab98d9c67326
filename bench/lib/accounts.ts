// The benchmark accounts u0 .. u(count-1), written through the storage repositories: no PBKDF2
// per account, a pool of key sets (each with its own salt) is shared round-robin instead,
// which costs a login exactly what a unique salt would.
import { deriveUserKeys, DEFAULT_SCRAM_ITERATIONS } from '../../server/auth/scram-keys.ts';
import type { Storage } from '../../server/storage/types.ts';
import { BENCH_PASSWORD, benchUser } from '../load/users.ts';

const KEY_SETS = 64;

export async function writeBenchAccounts(storage: Storage, count: number): Promise<void> {
  const keys = await Promise.all(Array.from({ length: Math.min(KEY_SETS, count) }, () => deriveUserKeys(BENCH_PASSWORD, DEFAULT_SCRAM_ITERATIONS)));
  for (let i = 0; i < count; i++) await storage.users.create(benchUser(i), keys[i % keys.length]!);
}
