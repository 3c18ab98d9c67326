// Console logins: a random session id in an HttpOnly cookie, and a CSRF token the console
// keeps in memory and sends back in a header with every change. A cross-site page can make
// the browser send the cookie, but cannot read the token. Sessions live in this node's
// memory: a console talks to one node (a restart logs it out).
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'xmppd_admin';
/** Beyond this many live sessions the least recently used is dropped. */
const MAX_SESSIONS = 1000;

export interface AdminSession {
  id: string;
  /** Bare JID of the administrator. */
  jid: string;
  csrfToken: string;
  createdAt: Date;
  lastUsed: number;
}

export class AdminSessionStore {
  /** Map order is least recently used first. */
  private readonly sessions = new Map<string, AdminSession>();

  /** @param idleSeconds read at each use, so a property change applies at once */
  constructor(private readonly idleSeconds: () => number, private readonly now: () => number = Date.now) {}

  create(jid: string): AdminSession {
    const session: AdminSession = {
      id: randomBytes(32).toString('base64url'),
      jid,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: new Date(this.now()),
      lastUsed: this.now(),
    };
    this.sessions.set(session.id, session);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return session;
  }

  /** The live session with this id (its idle time starts again), or null. */
  get(id: string): AdminSession | null {
    const session = this.sessions.get(id);
    if (!session) return null;
    this.sessions.delete(id);
    if (this.now() - session.lastUsed > this.idleSeconds() * 1000) return null;
    session.lastUsed = this.now();
    this.sessions.set(id, session);
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session of an account (removed from admin.jids, say). */
  deleteFor(jid: string): void {
    for (const [id, s] of this.sessions) if (s.jid === jid) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

export function csrfTokenMatches(session: AdminSession, token: string | undefined): boolean {
  if (token === undefined) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string): string {
  // A browser-session cookie: the server enforces the idle timeout. No Secure flag: the
  // listener speaks plain HTTP on localhost; a TLS proxy in front of it adds the flag.
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}
