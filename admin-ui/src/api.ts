// The admin JSON API as the console uses it: same-origin requests carrying the session
// cookie, the CSRF token (kept in this module's memory, never in browser storage) on every
// change, and failures turned into ApiError with the API's code and message.
import type {
  AdminPage, ErrorBody, LogLevel, LogLine, NodeConsistency, NodeStatus, OnlineSession, Plugin, Property, PropertyValue, RoomDetail, RoomOptionValue,
  RoomSummary, ServerInfo, Session, User, UserPage,
} from './api-types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The API's error code (AUTH_FAILED, PROPERTY_INVALID...), or NETWORK when nothing answered. */
    readonly code: string,
    message: string,
    /** Seconds from a Retry-After header (429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let sessionLost: (err: ApiError) => void = () => {};

/** Called when a request shows the session is over (expired, or no longer an administrator). */
export function onSessionLost(handler: (err: ApiError) => void): void {
  sessionLost = handler;
}

/** The text to show for any failure. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Body {
  json?: unknown;
  archive?: Blob;
}

async function call<T>(method: string, path: string, body: Body = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let payload: BodyInit | undefined;
  if (body.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body.archive) {
    headers['content-type'] = 'application/gzip';
    payload = body.archive;
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `The server did not answer (${describe(err)}). Is it running?`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML page, say: reported below with the status.
  }
  if (res.ok) return data as T;
  const error = data as Partial<ErrorBody> | null;
  const retryAfter = Number(res.headers.get('retry-after'));
  const err = new ApiError(
    res.status,
    error?.code ?? `HTTP_${res.status}`,
    error?.message ?? `${res.status} ${res.statusText}`.trim(),
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
  // Logging in and asking for the session answer 401 and 403 as part of their job.
  if (path !== '/api/session' && (err.code === 'AUTH_REQUIRED' || err.code === 'NOT_ADMIN')) sessionLost(err);
  throw err;
}

function remember(session: Session): Session {
  csrfToken = session.csrfToken;
  return session;
}

export async function logIn(jid: string, password: string): Promise<Session> {
  return remember(await call<Session>('POST', '/api/session', { json: { jid, password } }));
}

/** The current session (and its CSRF token, after a reload), or an ApiError 401. */
export async function currentSession(): Promise<Session> {
  return remember(await call<Session>('GET', '/api/session'));
}

export async function logOut(): Promise<void> {
  try {
    await call<void>('DELETE', '/api/session');
  } finally {
    csrfToken = null;
  }
}

export function nodeStatus(): Promise<NodeStatus> {
  return call<NodeStatus>('GET', '/api/status');
}

/** Every node's consistency check, after a repair when asked. */
export async function clusterConsistency(repair: boolean): Promise<NodeConsistency[]> {
  return (await call<{ nodes: NodeConsistency[] }>(repair ? 'POST' : 'GET', `/api/cluster/consistency${repair ? '/repair' : ''}`)).nodes;
}

export async function plugins(): Promise<Plugin[]> {
  return (await call<{ plugins: Plugin[] }>('GET', '/api/plugins')).plugins;
}

/** Installs a .tgz; resolves once the node has loaded it. */
export function installPlugin(archive: Blob): Promise<{ plugin: Plugin; replaced: string | null }> {
  return call('POST', '/api/plugins', { archive });
}

export function removePlugin(name: string): Promise<void> {
  return call('DELETE', `/api/plugins/${encodeURIComponent(name)}`);
}

export async function properties(): Promise<Property[]> {
  return (await call<{ properties: Property[] }>('GET', '/api/properties')).properties;
}

export function property(name: string): Promise<Property> {
  return call('GET', `/api/properties/${encodeURIComponent(name)}`);
}

/** `force` stores a value under a name nothing on this node defines (a plugin not loaded here). */
export function setProperty(name: string, value: PropertyValue, force = false): Promise<Property> {
  return call('PUT', `/api/properties/${encodeURIComponent(name)}`, { json: force ? { value, force } : { value } });
}

/** Back to the default; undefined when nothing defines the name (the stored value is gone). */
export function unsetProperty(name: string): Promise<Property | undefined> {
  return call('DELETE', `/api/properties/${encodeURIComponent(name)}`);
}

export async function adminPages(): Promise<AdminPage[]> {
  return (await call<{ pages: AdminPage[] }>('GET', '/api/pages')).pages;
}

/** One page of the accounts whose name contains `search`, sorted by name. */
export function users(search: string, limit: number, offset: number): Promise<UserPage> {
  const query = new URLSearchParams({ limit: String(limit), offset: String(offset) });
  if (search) query.set('search', search);
  return call('GET', `/api/users?${query}`);
}

export function createUser(username: string, password: string): Promise<User> {
  return call('POST', '/api/users', { json: { username, password } });
}

export function setUserPassword(username: string, password: string): Promise<void> {
  return call('PUT', `/api/users/${encodeURIComponent(username)}/password`, { json: { password } });
}

/** Ends the account's sessions on every node and deletes it with everything it owns. */
export function deleteUser(username: string): Promise<void> {
  return call('DELETE', `/api/users/${encodeURIComponent(username)}`);
}

/** The sessions online on every node, or only those of `user` (a user name or bare JID). */
export async function onlineSessions(user = ''): Promise<OnlineSession[]> {
  const path = user ? `/api/online?${new URLSearchParams({ user })}` : '/api/online';
  return (await call<{ sessions: OnlineSession[] }>('GET', path)).sessions;
}

/** Ends one session (a full JID) wherever it is connected. */
export function endSession(jid: string): Promise<void> {
  return call('DELETE', `/api/online/${encodeURIComponent(jid)}`);
}

/** The group chat service's domain and its rooms. */
export function rooms(): Promise<{ service: string; rooms: RoomSummary[] }> {
  return call('GET', '/api/rooms');
}

export function room(name: string): Promise<RoomDetail> {
  return call('GET', `/api/rooms/${encodeURIComponent(name)}`);
}

/** A persistent room owned by `owner`; ROOM_EXISTS and ROOM_INVALID say what is wrong. */
export function createRoom(name: string, owner: string, options: Record<string, RoomOptionValue>): Promise<RoomDetail> {
  return call('POST', '/api/rooms', { json: { name, owner, options } });
}

/** Destroys a room; its occupants are told the reason and where to go instead. */
export function destroyRoom(name: string, reason: string, alternate: string): Promise<void> {
  const query = new URLSearchParams();
  if (reason) query.set('reason', reason);
  if (alternate) query.set('alternate', alternate);
  const search = query.toString();
  return call('DELETE', `/api/rooms/${encodeURIComponent(name)}${search ? `?${search}` : ''}`);
}

export function serverInfo(): Promise<ServerInfo> {
  return call('GET', '/api/server');
}

/** The node's newest log lines at `level` or above, oldest first. */
export async function logLines(level: LogLevel, limit: number): Promise<LogLine[]> {
  return (await call<{ lines: LogLine[] }>('GET', `/api/log?${new URLSearchParams({ level, limit: String(limit) })}`)).lines;
}
