// Secrets the server keys its own computations with. They live in the shared database
// (storage.secrets), so every node of a cluster, and the same node after a restart, uses
// the same ones; the first node to start generates them.
import { randomBytes } from 'node:crypto';
import type { Storage } from '../storage/types.ts';

export interface ServerSecrets {
  /** Keys the salts SCRAM shows to unknown users (see stream/sasl/scram.ts). */
  scramFakeSalt: Buffer;
}

export async function loadServerSecrets(storage: Storage): Promise<ServerSecrets> {
  const fakeSalt = await storage.secrets.getOrCreate('scram.fake-salt', () => randomBytes(32).toString('base64'));
  return { scramFakeSalt: Buffer.from(fakeSalt, 'base64') };
}
