// What the admin API answers, as its JSON schemas (server/http/admin/admin-schemas.ts) say.
// The node status is the server's own type, as JSON carries it.
import type { NodeConsistency as ServerNodeConsistency } from '../../server/cluster/cluster-manager.ts';
import type { NodeStatus as ServerNodeStatus } from '../../server/http/node-status.ts';
import type { RoomDetail as ServerRoomDetail, RoomOptionValue, RoomSummary as ServerRoomSummary } from '../../server/extension/room-admin.ts';

/** What JSON makes of a server-side type: dates travel as ISO strings. */
type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export type NodeStatus = Json<ServerNodeStatus>;

/** One node's answer to the cluster consistency check (server/cluster/cluster-manager.ts). */
export type NodeConsistency = ServerNodeConsistency;

/** A group chat room in GET /api/rooms, and one in full (GET /api/rooms/ROOM). */
export type RoomSummary = ServerRoomSummary;
export type RoomDetail = ServerRoomDetail;
export type { RoomOptionValue };

export interface Session {
  jid: string;
  method: 'basic' | 'session';
  /** Sent back as X-CSRF-Token with every change; null for HTTP Basic. */
  csrfToken: string | null;
}

export interface Plugin {
  name: string;
  file: string;
  version: string | null;
  kind: 'feature' | 'cluster' | null;
  description: string;
  author: string;
  state: 'loaded' | 'failed' | 'loading';
  reason: string | null;
  since: string;
}

export type PropertyValue = string | number | boolean;

export interface Property {
  name: string;
  /** False for a value stored under a name nothing defines on this node (a plugin not loaded here). */
  defined: boolean;
  value: PropertyValue;
  stored: string | null;
  isDefault: boolean;
  problem: string | null;
  type?: 'string' | 'integer' | 'boolean' | 'duration' | 'jid-list' | 'cidr-list' | 'origin-list' | 'uri-list';
  default?: PropertyValue;
  min?: number;
  max?: number;
  choices?: string[];
  description?: string;
  live?: boolean;
}

export interface AdminPage {
  plugin: string;
  id: string;
  title: string;
  url: string;
}

export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

export interface User {
  username: string;
  /** The account's bare JID. */
  jid: string;
  /** Sessions online now, on every node of the cluster. */
  sessions: number;
}

export interface UserPage {
  users: User[];
  /** How many accounts match the search in all. */
  total: number;
}

/** A client session online somewhere in the cluster (GET /api/online). */
export interface OnlineSession {
  /** The full JID. */
  jid: string;
  /** The node holding the session. */
  node: string;
  available: boolean;
  priority: number;
  /** From the presence last broadcast, when available. */
  show?: string;
  status?: string;
  /** How it is connected (absent for a session of a node that does not say). */
  address?: string;
  transport?: 'tcp' | 'websocket' | 'bosh';
  secure?: boolean;
  /** Login time, ISO 8601. */
  since?: string;
  /** The client software, from its entity capabilities. */
  client?: string;
}

/** GET /api/server. */
export interface ServerInfo {
  version: string;
  node: string;
  domain: string;
  runtime: { node: string; platform: string };
  configFile: string | null;
  dataDir: string;
  pluginsDir: string;
  database: { type: string; target: string };
  listeners: { name: string; enabled: boolean; host: string; port: number }[];
  certificate: {
    subject: string;
    issuer: string;
    names: string | null;
    notBefore: string;
    notAfter: string;
    daysLeft: number;
    selfSigned: boolean;
    generated: boolean;
    fingerprintSha256: string;
  } | null;
  plugins: { name: string; version: string | null; state: string }[];
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line of GET /api/log. */
export interface LogLine {
  time: string;
  level: LogLevel;
  component: string;
  text: string;
}
