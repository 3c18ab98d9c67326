// The client side of SCRAM (RFC 5802), without channel binding. A real client derives the
// salted password once and keeps it (or ClientKey/ServerKey) for later logins; the load
// generator does the same, keyed by salt and iteration count, so the PBKDF2 stays off the
// measured path and the figure is the server's cost.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramHash = 'sha1' | 'sha256';

interface DerivedKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export class ScramKeyCache {
  private readonly keys = new Map<string, DerivedKeys>();

  get(hash: ScramHash, password: string, salt: string, iterations: number): DerivedKeys {
    const id = `${hash}\0${salt}\0${iterations}\0${password}`;
    let k = this.keys.get(id);
    if (!k) {
      const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, hash === 'sha1' ? 20 : 32, hash);
      const clientKey = createHmac(hash, salted).update('Client Key').digest();
      k = {
        clientKey,
        storedKey: createHash(hash).update(clientKey).digest(),
        serverKey: createHmac(hash, salted).update('Server Key').digest(),
      };
      this.keys.set(id, k);
    }
    return k;
  }
}

/** "=" and "," are escaped in SCRAM usernames (RFC 5802 5.1). */
function saslname(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** One exchange: firstMessage(), then finalMessage(serverFirst), then checkServerFinal(). */
export class ScramExchange {
  private readonly clientFirstBare: string;
  private readonly nonce = randomBytes(18).toString('base64');
  private expectedSignature: Buffer | null = null;

  constructor(
    private readonly hash: ScramHash,
    username: string,
    private readonly password: string,
    private readonly cache: ScramKeyCache,
  ) {
    this.clientFirstBare = `n=${saslname(username)},r=${this.nonce}`;
  }

  firstMessage(): string {
    return 'n,,' + this.clientFirstBare;
  }

  finalMessage(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0]!, kv.slice(2)] as [string, string]));
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!nonce?.startsWith(this.nonce) || !salt || !Number.isInteger(iterations)) {
      throw new Error(`bad server-first-message: ${serverFirst}`);
    }
    const keys = this.cache.get(this.hash, this.password, salt, iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.hash, keys.storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(keys.clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i]! ^ signature[i]!;
    this.expectedSignature = createHmac(this.hash, keys.serverKey).update(authMessage).digest();
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** The server proves it knew the keys too (v=...); a wrong value means a broken server. */
  checkServerFinal(serverFinal: string): void {
    const v = /(?:^|,)v=([^,]+)/.exec(serverFinal)?.[1];
    const got = v === undefined ? null : Buffer.from(v, 'base64');
    if (!got || !this.expectedSignature || got.length !== this.expectedSignature.length || !timingSafeEqual(got, this.expectedSignature)) {
      throw new Error(`server signature does not verify: ${serverFinal}`);
    }
  }
}
