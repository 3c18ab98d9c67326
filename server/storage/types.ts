// The repositories the kernel and its modules use. Each aggregate has one owner table set
// (see migrations/) and one repository; nothing outside storage/ writes SQL.
import type { Knex } from 'knex';
import type { ServedDomainRepository } from './served-domain.ts';

/** Salted SCRAM keys for one hash (RFC 5802); the password itself is never stored. */
export interface ScramKeys {
  salt: string; // base64
  iterations: number;
  storedKey: string; // base64
  serverKey: string; // base64
}

export interface UserRecord {
  username: string; // prepared localpart
  scramSha1: ScramKeys;
  scramSha256: ScramKeys;
  createdAt: Date;
}

export interface UserRepository {
  get(username: string): Promise<UserRecord | null>;
  exists(username: string): Promise<boolean>;
  /**
   * Throws UserExistsError if taken, AccountDeletionPendingError while a deletion of the
   * name is not finished. Rows an earlier account of the name left behind are removed.
   */
  create(username: string, keys: { scramSha1: ScramKeys; scramSha256: ScramKeys }): Promise<void>;
  /** Returns false if the user does not exist. */
  setKeys(username: string, keys: { scramSha1: ScramKeys; scramSha256: ScramKeys }): Promise<boolean>;
  /**
   * Removes the user and everything the user owns in the kernel's tables (roster, offline,
   * vcard, ...), and journals the deletion for the nodes (AccountDeletionRepository), in one
   * transaction. Returns the journal entry's id, or null if there was no such user. Called
   * through the node's AccountDeletions or by `xmppd user del`, which finish the rest.
   */
  delete(username: string, source: AccountDeletionSource): Promise<number | null>;
  list(): Promise<string[]>;
  count(): Promise<number>;
  /** One page of user names containing `search` (any case for ASCII), sorted, and how many match in all. */
  page(options: { search?: string; limit: number; offset: number }): Promise<{ usernames: string[]; total: number }>;
}

export class UserExistsError extends Error {
  constructor(readonly username: string) {
    super(`user '${username}' already exists`);
    this.name = 'UserExistsError';
  }
}

/** The name was deleted and the nodes have not finished with it (modules' and plugins' rows). */
export class AccountDeletionPendingError extends Error {
  constructor(readonly username: string) {
    super(`user '${username}' was deleted and the deletion is not finished yet`);
    this.name = 'AccountDeletionPendingError';
  }
}

/** Who deleted it: `xmppd user del`, the admin API, or a module (in-band removal, XEP-0077). */
export type AccountDeletionSource = 'cli' | 'admin-api' | 'module';

/** One entry of the deletion journal (migrations/0006-account-deletions.ts). */
export interface AccountDeletion {
  id: number;
  username: string;
  source: AccountDeletionSource;
  deletedAt: Date;
  /** The node that runs (or ran) the modules' and plugins' handlers. */
  claimedBy: string | null;
  finishedAt: Date | null;
}

export interface AccountDeletionRepository {
  get(id: number): Promise<AccountDeletion | null>;
  /** The newest entry's id (0 when there is none). */
  latestId(): Promise<number>;
  /** Entries newer than `id`, and every unfinished one, oldest first. */
  after(id: number, limit: number): Promise<AccountDeletion[]>;
  /** Takes an unfinished entry for `node` unless another node holds a claim made since `staleBefore`. */
  claim(id: number, node: string, staleBefore: Date): Promise<boolean>;
  finish(id: number): Promise<void>;
  /** Removes the entries finished before the instant. */
  purge(finishedBefore: Date): Promise<void>;
}

export type Subscription = 'none' | 'to' | 'from' | 'both';

/** One roster entry as RFC 6121 models it, plus the server-side subscription state. */
export interface RosterItem {
  jid: string; // bare JID of the contact
  name: string | null;
  subscription: Subscription;
  /** We asked the contact for a subscription and wait for the answer (ask='subscribe'). */
  askOut: boolean;
  /** The contact asked us; the request is kept until the user answers (RFC 6121 3.1.3). */
  askIn: boolean;
  /** The stanza of the pending inbound request, to redeliver it at next login. */
  askInStanza: string | null;
  /** Pre-approved inbound subscription (RFC 6121 3.4). */
  approved: boolean;
  /**
   * The user put the contact in the roster (a roster set, or a subscription stanza the user
   * sent). An item that only records the contact's pending request is not shown to the user
   * (RFC 6121 3.1.3).
   */
  added: boolean;
  groups: string[];
}

export interface RosterRepository {
  /** All items of a user, including "none" items that only hold a pending request. */
  list(username: string): Promise<RosterItem[]>;
  get(username: string, jid: string): Promise<RosterItem | null>;
  /** Inserts or replaces the item and bumps the roster version; returns the new version. */
  put(username: string, item: RosterItem): Promise<string>;
  /** Deletes the item and bumps the roster version; returns the new version. */
  remove(username: string, jid: string): Promise<string>;
  /**
   * Compare-and-set: writes the item for `jid` (null: deletes it) and bumps the version, only
   * if the roster is still at version `expected`. Returns the new version, or null when the
   * roster had changed (another node of a cluster wrote it) and nothing was written.
   */
  writeIfVersion(username: string, expected: string, jid: string, item: RosterItem | null): Promise<string | null>;
  /** Current roster version string (XEP-0237 style opaque string; "0" for an empty history). */
  version(username: string): Promise<string>;
  /** The users whose rosters hold an item for `jid` (a bare JID), with that item. */
  holders(jid: string): Promise<{ username: string; item: RosterItem }[]>;
}

export interface OfflineMessage {
  id: number;
  stanza: string; // serialized XML, with its delay stamp already added
  createdAt: Date;
}

export interface OfflineRepository {
  /**
   * Stores the message unless the user already has `limit` messages or more, or the message
   * would take the user's stored messages over `maxBytes` (0 or absent: no byte quota);
   * returns whether stored.
   */
  store(username: string, stanza: string, limit: number, maxBytes?: number): Promise<boolean>;
  count(username: string): Promise<number>;
  /** Returns the messages oldest first; they stay stored until deleted. */
  list(username: string): Promise<OfflineMessage[]>;
  delete(username: string, ids: number[]): Promise<void>;
  /** Total across all users (metrics). */
  total(): Promise<number>;
}

/** One element for private XML storage: its namespace key and its serialized XML. */
export interface PrivateItem {
  key: string;
  xml: string;
}

/** 'over-limit': the new keys would take the user past the limit; 'no-user': no such user. */
export type PrivateStoreResult = 'stored' | 'over-limit' | 'no-user';

export interface PrivateRepository {
  /** Serialized element stored for (user, namespace key), or null. */
  get(username: string, key: string): Promise<string | null>;
  /** Stores one element with no limit and no check that the user exists. */
  set(username: string, key: string, xml: string): Promise<void>;
  /**
   * Stores the elements of one request together, or none of them. Keys the user does not
   * have yet must not take the user past `maxItems` elements (0: no limit); replacing a
   * stored key adds nothing. Parallel calls (from any node) never exceed the limit together.
   */
  store(username: string, items: PrivateItem[], maxItems: number): Promise<PrivateStoreResult>;
  /** Elements a user has stored. */
  count(username: string): Promise<number>;
}

export interface VcardRepository {
  get(username: string): Promise<string | null>;
  set(username: string, xml: string): Promise<void>;
}

export interface BlocklistRepository {
  list(username: string): Promise<string[]>;
  add(username: string, jids: string[]): Promise<void>;
  /** Removes the given JIDs, or all when `jids` is empty. */
  remove(username: string, jids: string[]): Promise<void>;
}

export interface LastActivityRecord {
  at: Date; // when the user logged out
  status: string;
}

export interface LastActivityRepository {
  get(username: string): Promise<LastActivityRecord | null>;
  set(username: string, record: LastActivityRecord): Promise<void>;
}

/** A message for one archive (XEP-0313): the owner's copy of a message sent or received. */
export interface ArchiveEntry {
  /** The account whose archive it is (prepared localpart). */
  owner: string;
  /** The archive id (XEP-0359 stanza-id), unique in the owner's archive. */
  id: string;
  /** The other party's bare JID. */
  with: string;
  /** The other party's resource, if the message named one. */
  withResource: string | null;
  /** Sent by the owner (true) or received (false). */
  outgoing: boolean;
  at: Date;
  /** The message as archived, serialized. */
  stanza: string;
}

export interface ArchivedMessage extends Omit<ArchiveEntry, 'owner'> {
  /** Position in the archive: later messages have larger positions. */
  seq: number;
}

/** Which messages of one archive a query reads; every part narrows it. */
export interface ArchiveFilter {
  /** The other party's bare JID, and resource when it is a full JID. */
  with?: { bare: string; resource?: string };
  start?: Date;
  end?: Date;
  /** Only positions above / below (exclusive). */
  afterSeq?: number;
  beforeSeq?: number;
  /** Only these archive ids. */
  ids?: readonly string[];
}

export type ArchiveDefault = 'always' | 'roster' | 'never';

/** XEP-0313 archiving preferences of an account. */
export interface ArchivePrefs {
  default: ArchiveDefault;
  /** Bare JIDs always / never archived. */
  always: string[];
  never: string[];
}

export interface ArchiveRepository {
  /** Adds the entries in order (one statement per call where the dialect allows). */
  append(entries: readonly ArchiveEntry[]): Promise<void>;
  /** The position of an archive id in the owner's archive, or null if it has no such id. */
  position(owner: string, id: string): Promise<number | null>;
  /**
   * Up to `limit` messages matching the filter, nearest the start (oldest first) or, with
   * `backward`, nearest the end (newest first).
   */
  page(owner: string, filter: ArchiveFilter, limit: number, backward: boolean): Promise<ArchivedMessage[]>;
  /** How many messages match, or null if more than `bound` do (counting stops there). */
  count(owner: string, filter: ArchiveFilter, bound: number): Promise<number | null>;
  prefs(owner: string): Promise<ArchivePrefs | null>;
  setPrefs(owner: string, prefs: ArchivePrefs): Promise<void>;
  /** Deletes up to `limit` messages (of any archive) archived before the instant; returns how many. */
  purge(before: Date, limit: number): Promise<number>;
  /** Deletes an account's archive and preferences. */
  deleteOwner(owner: string): Promise<void>;
}

/** A PEP node (XEP-0163) of one account; `config` holds its XEP-0060 options by field name. */
export interface PepNode {
  id: number;
  owner: string; // prepared localpart
  node: string;
  config: Record<string, string>;
  createdAt: Date;
}

export interface PepItem {
  id: string;
  /** The item's payload element, serialized with its namespace. */
  payload: string;
  /** Full JID of the resource that published it. */
  publisher: string;
  publishedAt: Date;
}

/** 'no-user': the owner does not exist (or is being deleted); 'over-limit': the owner has too many nodes. */
export type PepCreateResult = { created: boolean; node: PepNode } | 'no-user' | 'over-limit';

export interface PepRepository {
  getNode(owner: string, node: string): Promise<PepNode | null>;
  /** An owner's nodes, by name. */
  listNodes(owner: string): Promise<PepNode[]>;
  /** The nodes named `nodes` of any of `owners` (for last items at presence). */
  findNodes(owners: readonly string[], nodes: readonly string[]): Promise<PepNode[]>;
  /**
   * Creates the node unless it exists (then `created` is false and the stored one is returned).
   * Refused for an owner without an account or with `maxNodes` nodes already (0: no limit).
   */
  createNode(owner: string, node: string, config: Record<string, string>, maxNodes: number): Promise<PepCreateResult>;
  setConfig(nodeId: number, config: Record<string, string>): Promise<void>;
  /** Removes the node and its items; false if there was none. */
  deleteNode(nodeId: number): Promise<boolean>;
  /**
   * Stores an item as the node's newest (an item of the same id is replaced and becomes the
   * newest), then removes the oldest beyond `maxItems`. Returns the ids removed.
   */
  publish(nodeId: number, item: Omit<PepItem, 'publishedAt'>, maxItems: number): Promise<string[]>;
  /** Items oldest first: the `max` newest, or those of the given ids, or all. */
  items(nodeId: number, opts?: { ids?: readonly string[]; max?: number }): Promise<PepItem[]>;
  /** The newest item of each node that has one, by node id. */
  lastItems(nodeIds: readonly number[]): Promise<Map<number, PepItem>>;
  /** Removes one item; false if there was none. */
  retract(nodeId: number, itemId: string): Promise<boolean>;
  /** Removes all of a node's items (XEP-0060 8.5); returns their ids, oldest first. */
  purge(nodeId: number): Promise<string[]>;
  /** Removes every node and item of an owner (account deletion). */
  deleteOwner(owner: string): Promise<void>;
}

/** What a client's disco#info said for one XEP-0115 verification string, verified. */
export interface CapsInfo {
  identities: { category: string; type: string; lang?: string; name?: string }[];
  features: string[];
}

/** The XEP-0115 cache every node shares: `ver` is "<hash algorithm> <verification string>". */
export interface CapsRepository {
  get(ver: string): Promise<CapsInfo | null>;
  /** Stores what a verified string stands for; storing it again changes nothing. */
  put(ver: string, info: CapsInfo): Promise<void>;
}

export interface PropertyRow {
  name: string;
  value: string;
  updatedAt: Date;
}

export interface PropertyRepository {
  all(): Promise<PropertyRow[]>;
  get(name: string): Promise<PropertyRow | null>;
  set(name: string, value: string): Promise<void>;
  /** Returns false if it was not set. */
  unset(name: string): Promise<boolean>;
  /**
   * A cheap fingerprint of the whole table (count, newest update and a removal counter) so
   * nodes can poll for changes made by other nodes without reading every row.
   */
  fingerprint(): Promise<string>;
}

/** Random values all nodes sharing the database must agree on (see migrations/0002-secrets.ts). */
export interface SecretRepository {
  /** The secret stored under `name`; the first caller's `generate()` result if none was stored. */
  getOrCreate(name: string, generate: () => string): Promise<string>;
}

/**
 * Failed logins counted per throttle key (`account:alice`, `address:203.0.113.5`) for every
 * node sharing the database; instants are milliseconds since the epoch.
 */
export interface AuthFailureRepository {
  /** The failure instants after `since` of those keys that have any, oldest first. */
  recent(names: readonly string[], since: number): Promise<Map<string, number[]>>;
  /** One failure at `at` for each key. */
  record(names: readonly string[], at: number): Promise<void>;
  /** Removes every failure of the keys. */
  clear(names: readonly string[]): Promise<void>;
  /** Removes every failure at or before `before`, of any key. */
  purge(before: number): Promise<void>;
}

/** A persistent group chat room (XEP-0045, migrations/0009-muc.ts), by its name (the JID's localpart). */
export interface StoredRoom {
  name: string;
  /** The room's options by name (modules/muc/room-config.ts). */
  config: Record<string, unknown>;
  subject: string;
  /** The nick that set the subject; empty when the room did. */
  subjectBy: string;
  affiliations: StoredAffiliation[];
  /** When the row was first written: set by the store, read back by rooms(). */
  createdAt?: Date;
}

export interface StoredAffiliation {
  /** Bare JID. */
  jid: string;
  affiliation: 'owner' | 'admin' | 'member' | 'outcast';
  reason: string;
}

export interface MucRepository {
  /** Every persistent room with its affiliations. */
  rooms(): Promise<StoredRoom[]>;
  /** Writes a room's configuration and subject (creating its row). */
  saveRoom(room: Omit<StoredRoom, 'affiliations'>): Promise<void>;
  /** Replaces a room's affiliations. */
  saveAffiliations(name: string, affiliations: readonly StoredAffiliation[]): Promise<void>;
  /** Removes a room and its affiliations. */
  deleteRoom(name: string): Promise<void>;
  /** Removes a bare JID's affiliations in every room. */
  deleteJid(jid: string): Promise<void>;
}

export interface Storage {
  readonly knex: Knex;
  readonly dialect: 'sqlite' | 'mysql';
  readonly users: UserRepository;
  readonly roster: RosterRepository;
  readonly offline: OfflineRepository;
  readonly privateXml: PrivateRepository;
  readonly vcards: VcardRepository;
  readonly blocklist: BlocklistRepository;
  readonly lastActivity: LastActivityRepository;
  /** Message archives (XEP-0313, migrations/0007-message-archive.ts). */
  readonly archive: ArchiveRepository;
  readonly pep: PepRepository;
  readonly caps: CapsRepository;
  /** Persistent group chat rooms (XEP-0045, migrations/0009-muc.ts). */
  readonly muc: MucRepository;
  readonly properties: PropertyRepository;
  readonly secrets: SecretRepository;
  readonly authFailures: AuthFailureRepository;
  /** The journal of account deletions the nodes finish (account-deletion-repository.ts). */
  readonly accountDeletions: AccountDeletionRepository;
  /** The XMPP domain the data belongs to (served-domain.ts). */
  readonly servedDomain: ServedDomainRepository;
  /** True if a trivial query answers (used by /status and the pause logic). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
