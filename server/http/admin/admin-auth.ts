// Who may use the admin API: accounts of this domain listed in the property admin.jids,
// proven by their password (checked against the stored SCRAM-SHA-256 keys, as SASL PLAIN
// does). Two ways to present it: HTTP Basic on each request (scripts, curl), or a console
// login (POST /api/session) that sets a session cookie and hands out a CSRF token.
//
// 401 answers carry no `WWW-Authenticate: Basic` challenge on purpose: a browser would then
// prompt for and cache the credentials and send them to cross-site requests by itself.
import type { FastifyRequest } from 'fastify';
import { FailureThrottle, MemoryFailureStore, accountKey, addressKey, type ThrottleKey } from '../../auth/failure-throttle.ts';
import { verifyPassword } from '../../auth/scram-keys.ts';
import { VerifiedPasswordCache } from '../../auth/verified-password-cache.ts';
import { JID } from '../../jid/jid.ts';
import type { ServerContext } from '../../server-context.ts';
import { AdminError } from './admin-errors.ts';
import { cookieValue, csrfTokenMatches, SESSION_COOKIE, type AdminSession, type AdminSessionStore } from './admin-sessions.ts';

export interface AdminIdentity {
  /** Bare JID of the administrator. */
  jid: string;
  method: 'basic' | 'session';
  session: AdminSession | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminIdentity | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class AdminAuthenticator {
  private readonly verified = new VerifiedPasswordCache(256);
  private parsedFrom: string | null = null;
  private parsed = new Set<string>();
  /** Failed logins per address and per account, on this node (the admin listener is local to it). */
  private readonly throttle: FailureThrottle;

  constructor(private readonly context: ServerContext, readonly sessions: AdminSessionStore) {
    const core = context.core;
    this.throttle = new FailureThrottle(new MemoryFailureStore(), () => core.adminLoginFailureWindow.value);
  }

  /** The bare JIDs admin.jids lists; entries that are not JIDs are logged and ignored. */
  admins(): ReadonlySet<string> {
    const raw = this.context.core.adminJids.value;
    if (raw === this.parsedFrom) return this.parsed;
    const admins = new Set<string>();
    for (const entry of raw.split(/[\s,]+/).filter(Boolean)) {
      const jid = JID.tryParse(entry.includes('@') ? entry : `${entry}@${this.context.domain}`);
      if (jid && jid.local) admins.add(jid.bareString());
      else this.context.log.warn('admin.jids: ignoring an entry that is not a bare JID', { entry });
    }
    [this.parsedFrom, this.parsed] = [raw, admins];
    return admins;
  }

  /**
   * Checks a JID (or user name) and password sent from `address`; returns the bare JID of an
   * administrator. Refused at once while the address or the account is throttled.
   */
  async checkCredentials(user: string, password: string, address: string): Promise<string> {
    const jid = JID.tryParse(user.includes('@') ? user : `${user}@${this.context.domain}`);
    const maxFailures = this.context.core.adminLoginMaxFailures.value;
    const throttleKeys: ThrottleKey[] = [
      { name: addressKey(address), maxFailures },
      { name: accountKey(jid ? jid.bareString() : user.toLowerCase()), maxFailures },
    ];
    const { retryAfter: wait } = await this.throttle.check(throttleKeys);
    if (wait > 0) {
      this.context.log.warn('admin login refused: too many failures', { user, address });
      throw new AdminError('TOO_MANY_ATTEMPTS', undefined, wait);
    }
    const record = jid && jid.local && jid.domain === this.context.domain && !jid.resource
      ? await this.context.storage.users.get(jid.local)
      : null;
    const keys = record?.scramSha256;
    let ok = !!keys && this.verified.has(jid!.local, password, keys);
    if (keys && !ok) {
      ok = await verifyPassword(password, keys, 'sha256');
      if (ok) this.verified.add(jid!.local, password, keys);
    }
    if (!ok) {
      await this.throttle.failed(throttleKeys);
      // As for SASL: a failure is answered late, to slow guessing.
      await new Promise((r) => setTimeout(r, this.context.core.authFailureDelay.value * 1000));
      this.context.log.warn('admin authentication failed', { user, address });
      throw new AdminError('AUTH_FAILED');
    }
    await this.throttle.succeeded(throttleKeys.map((k) => k.name));
    const bare = jid!.bareString();
    if (!this.admins().has(bare)) throw new AdminError('NOT_ADMIN');
    return bare;
  }

  /** Who sends this request; throws an AdminError if nobody allowed (or the CSRF token is wrong). */
  async identify(req: FastifyRequest): Promise<AdminIdentity> {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
      const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new AdminError('AUTH_REQUIRED', 'the Authorization header must be HTTP Basic with JID:password');
      const jid = await this.checkCredentials(decoded.slice(0, colon), decoded.slice(colon + 1), req.ip);
      return { jid, method: 'basic', session: null };
    }
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = id ? this.sessions.get(id) : null;
    if (!session) throw new AdminError('AUTH_REQUIRED');
    if (!this.admins().has(session.jid)) {
      // Removed from admin.jids since logging in: the session ends now.
      this.sessions.deleteFor(session.jid);
      throw new AdminError('NOT_ADMIN');
    }
    if (!SAFE_METHODS.has(req.method)) {
      const token = req.headers['x-csrf-token'];
      if (!csrfTokenMatches(session, Array.isArray(token) ? token[0] : token)) throw new AdminError('CSRF_TOKEN_INVALID');
    }
    return { jid: session.jid, method: 'session', session };
  }
}
