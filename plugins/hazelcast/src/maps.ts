// The Hazelcast maps the nodes share, and how their values are written. Values are JSON
// strings, so any client (and a person with Management Center) can read them.
import { parseXml, type RouteConnection, type RouteEntry } from 'xmppd';

/** nodeId -> MemberRecord, refreshed by each node with a time to live (its heartbeat). */
export const MEMBERS_MAP = 'xmppd.members';
/** full JID -> RouteRecord: where every session of the cluster lives. */
export const ROUTES_MAP = 'xmppd.routes';

export interface MemberRecord {
  /** host:port of the node's cluster link. */
  address: string;
  /** When the node joined (ms since the epoch); the oldest member is the senior one. */
  joinedAt: number;
  /** The xmppd version the node runs and this plugin's, for a rolling upgrade to be seen (absent from older nodes). */
  version?: string;
  plugin?: string;
  /**
   * Written just before the node leaves on purpose (clustering switched off, the plugin
   * unloaded): its sessions stay connected, so its removal is not a death.
   */
  leaving?: true;
}

interface RouteRecord {
  /** Node holding the session. */
  n: string;
  /** Available. */
  a: boolean;
  /** Priority. */
  p: number;
  /** The presence last broadcast, serialized, while available. */
  x?: string;
  /** Tags modules set on the session (RouteEntry.tags), when there are any. */
  t?: string[];
  /** The connection: address, transport, TLS, bound at (ms since the epoch). */
  c?: [string, string, boolean, number];
}

const TRANSPORTS: readonly string[] = ['tcp', 'websocket', 'bosh'];

function decodeConnection(c: unknown): RouteConnection | undefined {
  if (!Array.isArray(c) || c.length !== 4) return undefined;
  const [address, transport, secure, since] = c as unknown[];
  if (typeof address !== 'string' || typeof transport !== 'string' || !TRANSPORTS.includes(transport)
    || typeof secure !== 'boolean' || typeof since !== 'number') return undefined;
  return { address, transport: transport as RouteConnection['transport'], secure, since };
}

export function encodeRoute(entry: RouteEntry): string {
  const record: RouteRecord = { n: entry.nodeId, a: entry.available, p: entry.priority };
  if (entry.presence) record.x = entry.presence.toString();
  if (entry.tags?.length) record.t = [...entry.tags];
  if (entry.connection) {
    const { address, transport, secure, since } = entry.connection;
    record.c = [address, transport, secure, since];
  }
  return JSON.stringify(record);
}

/** The entry for `jid`, or null if the value is not a route record (written by something else). */
export function decodeRoute(jid: string, value: string): RouteEntry | null {
  try {
    const r = JSON.parse(value) as Partial<RouteRecord>;
    if (typeof r.n !== 'string' || typeof r.a !== 'boolean' || typeof r.p !== 'number') return null;
    const entry: RouteEntry = { jid, nodeId: r.n, available: r.a, priority: r.p };
    if (typeof r.x === 'string') entry.presence = parseXml(r.x);
    if (Array.isArray(r.t) && r.t.every((t) => typeof t === 'string')) entry.tags = r.t;
    // Written by a node of an older version, a route has no connection: shown without one.
    const connection = decodeConnection(r.c);
    if (connection) entry.connection = connection;
    return entry;
  } catch {
    return null;
  }
}

export function encodeMember(record: MemberRecord): string {
  return JSON.stringify(record);
}

export function decodeMember(value: string): MemberRecord | null {
  try {
    const r = JSON.parse(value) as Partial<MemberRecord>;
    if (typeof r.address !== 'string' || typeof r.joinedAt !== 'number') return null;
    const record: MemberRecord = { address: r.address, joinedAt: r.joinedAt };
    if (typeof r.version === 'string') record.version = r.version;
    if (typeof r.plugin === 'string') record.plugin = r.plugin;
    if (r.leaving === true) record.leaving = true;
    return record;
  } catch {
    return null;
  }
}
