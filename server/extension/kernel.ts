// What a module or plugin may ask of the kernel, and nothing more: route and deliver
// stanzas, look up sessions and routes, end sessions, fire events here or on every node.
// Registrations (hooks, handlers, features, properties) are not here: they go through the
// module's context, which records them so that unload can undo them. The router, the
// session manager, the event bus and the cluster slot stay behind this interface, so no
// module can re-route the node, bind a session or add an unrecorded hook.
import type { JID } from '../jid/jid.ts';
import type { RouteEntry } from '../routing/routing-table.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { EndSessionsRequest } from '../session/end-sessions.ts';
import type { Element } from '../xml/element.ts';
import type { StanzaError, StreamError } from '../xml/errors.ts';

export interface Kernel {
  /** The XMPP domain this server serves. */
  readonly domain: string;
  /** The domain as a JID: the sender of what the server itself says. */
  readonly domainJid: JID;
  /** The server's version (XEP-0092 answers it). */
  readonly version: string;
  /** This node's id, unique in a cluster. */
  readonly nodeId: string;
  /** Whether the configuration lets passwords travel unencrypted (allow_plaintext_auth). */
  readonly plaintextAuthAllowed: boolean;

  /** Routes a stanza as sent by `from` (addresses as written in the stanza). */
  route(stanza: Element, from: JID, origin?: ClientSession | null): void;
  /**
   * Delivers to one full JID on whichever node holds it. False (or a promise of false) if
   * there is no such session, so the caller applies the RFC 6121 fallback for its kind.
   */
  deliverToFull(fullJid: string, stanza: Element): boolean | Promise<boolean>;
  /**
   * Delivers one stanza to many full JIDs, each copy with its own `to` (the stanza's own is
   * ignored), on whichever node each is connected; crosses to each other node once per call.
   * Resolves with the recipients that could not be reached, for the caller's fallback.
   */
  deliverEach(stanza: Element, recipients: readonly string[]): Promise<string[]>;
  /**
   * Writes a stanza serialized by another node of the cluster to a session of this node,
   * without parsing it again. Only for text that serialize() made from a parsed element: the
   * caller vouches for it (the clustering plugin, for a node that proved the cluster secret).
   * False if there is no such session here, it is closed, or its send queue is full.
   */
  deliverSerialized(fullJid: string, xml: string): boolean;
  /** Answers a stanza's sender with an error, unless RFC 6120/6121 say not to (errors, subscriptions). */
  bounce(stanza: Element, error: StanzaError): void;
  /** Sends an IQ from the server and resolves with the answer (result or error). */
  sendIq(iq: Element, timeoutMs?: number): Promise<Element>;
  /** Logs an error of asynchronous work that has nobody else to tell. */
  reportError(context: string, err: unknown): void;

  /** This node's session for a full JID. */
  localSession(fullJid: string): ClientSession | undefined;
  /** This node's sessions of an account (by bare JID). */
  localSessions(bareJid: string): Iterable<ClientSession>;
  /** The routes of an account's resources on every node, with their availability and presence. */
  routes(bareJid: string): readonly RouteEntry[];
  /** The route of one full JID, wherever it is connected. */
  routeOf(fullJid: string): RouteEntry | undefined;
  /** Call after a session's presence changed (availability, priority, show, status). */
  presenceChanged(session: ClientSession): void;
  /**
   * Sets or clears a flag on a local session's route (RouteEntry.tags), so that every node
   * sees it in routes()/routeOf(); it goes when the session ends.
   */
  setRouteTag(session: ClientSession, tag: string, on: boolean): void;
  /** Ends a local session on the server's initiative: unbound at once, then its stream closed. */
  endSession(session: ClientSession, error: StreamError, reason: string): void;
  /** Ends the sessions of an account (or one full JID) on every node; returns how many were here. */
  endSessions(request: EndSessionsRequest): number;
  /**
   * Deletes an account (by prepared user name) and everything it owns, as an administrator's
   * deletion does: resolves false if there is none. Its sessions end on every node, and the
   * handlers of ctx.onAccountDeleted run, right after it resolves.
   */
  deleteAccount(username: string): Promise<boolean>;

  /** Fires an event on this node; true if a handler took it. */
  fire<P>(event: string, payload: P): boolean;
  /**
   * Fires `event` (which must start with `remote/`) on every other node of the cluster;
   * standalone, it does nothing. A module hooks the same name to hear other nodes.
   */
  broadcast(event: string, payload: unknown): void;
  /**
   * Fires `event` (which must start with `remote/`) on one other node only: a request to the
   * node that holds some state. Events to one node arrive in the order sent. Resolves true
   * once that node took it; false standalone, or when the node is unknown or unreachable.
   */
  sendEvent(nodeId: string, event: string, payload: unknown): Promise<boolean>;
  /** True while this node takes part in a cluster. */
  clustered(): boolean;
  /**
   * Ids of the live nodes this node routes with, itself included, sorted; only itself when
   * standalone. `cluster/members-changed` (cluster-events.ts) says when it changes.
   */
  clusterNodes(): readonly string[];
  /**
   * These accounts (bare JIDs) lost their routes for a moment only (their node, or this one,
   * is briefly out of the cluster): for up to `forMs`, a message to one of them with no route
   * waits for the route instead of going to offline storage (routing/route-hold.ts).
   */
  expectRoutes(bareJids: Iterable<string>, forMs: number): void;
  /** Whether the account's routes are expected back (expectRoutes): it is most likely online. */
  routesExpected(bareJid: string): boolean;
}
