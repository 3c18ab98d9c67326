// Deleting an account on every node, whoever deleted it. The kernel's rows go in the
// deleting transaction, which also journals the deletion (migrations/0006). Then:
// - every node ends its sessions of the account: the deleting node at once (and, clustered,
//   every node through the cluster), every node when its poll of the journal finds the entry,
//   which is how nodes learn of `xmppd user del`, a process without a server;
// - one node claims the entry and finishes it: removes the account from admin.jids and its
//   failed-login count, calls every handler modules and plugins registered with
//   ctx.onAccountDeleted (their own rows), and marks the entry finished. A deletion made
//   while no node runs is finished by the first node to start, before it takes clients.
// Until the entry is finished the name cannot be taken again (users-repository.ts), so a new
// account of that name finds nothing of the old one.
import type { ClusterManager } from '../cluster/cluster-manager.ts';
import { accountKey } from '../auth/failure-throttle.ts';
import { JID } from '../jid/jid.ts';
import type { Logger } from '../log.ts';
import type { PropertyRegistry } from '../properties/property-registry.ts';
import type { Property } from '../properties/types.ts';
import { endSessions } from '../session/end-sessions.ts';
import type { SessionManager } from '../session/session-manager.ts';
import type { AccountDeletion, AccountDeletionSource, Storage } from '../storage/types.ts';
import { StreamError } from '../xml/errors.ts';

/** Removes what a module or plugin keeps for an account (its rows); called once, on one node. */
export type AccountDeletedHandler = (username: string) => void | Promise<void>;

/** Where contexts register their handlers; the returned function unregisters. */
export interface AccountDeletionHandlers {
  add(owner: string, handler: AccountDeletedHandler): () => void;
}

export interface AccountDeletionsDeps {
  storage: Storage;
  nodeId: string;
  domain: string;
  sessions: SessionManager;
  cluster(): ClusterManager;
  properties: PropertyRegistry;
  adminJids: Property<string>;
  log: Logger;
}

/** How often each node reads the journal (as often as it polls the properties). */
export const JOURNAL_POLL_MS = 2_000;
/** A claim older than this, not finished, was made by a node that died: another may take it. */
const STALE_CLAIM_MS = 5 * 60_000;
/** Longest wait for one handler; a slower one is logged and the others run. */
const HANDLER_TIMEOUT_MS = 30_000;
/** Finished entries are kept this long (for `xmppd user del` to read, and operators). */
const KEEP_FINISHED_MS = 24 * 3600_000;
/**
 * A session bound up to this long after the deletion's instant (written by another
 * process's clock) still counts as the deleted account's; a new account of the name can
 * only be created once the entry is finished, so this ends at worst a new session that
 * reconnects, never keeps an old one.
 */
const CLOCK_SKEW_MS = 10_000;

const ENDED = { condition: 'not-authorized', text: 'Account removed' } as const;

export class AccountDeletions implements AccountDeletionHandlers {
  private readonly handlers: { owner: string; handler: AccountDeletedHandler }[] = [];
  private readonly finishing = new Map<number, Promise<void>>();
  private lastSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private pollFailing = false;

  constructor(private readonly deps: AccountDeletionsDeps) {}

  add(owner: string, handler: AccountDeletedHandler): () => void {
    const entry = { owner, handler };
    this.handlers.push(entry);
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i !== -1) this.handlers.splice(i, 1);
    };
  }

  /** How many handlers are registered (for tests of unload). */
  get size(): number {
    return this.handlers.length;
  }

  /**
   * Deletes an account from this node (admin API, in-band removal). Resolves once its rows
   * are gone, false if there was no such account; its sessions end and the handlers run
   * right after (on a later turn, so an in-band removal's answer is written first).
   */
  async delete(username: string, source: AccountDeletionSource): Promise<boolean> {
    const id = await this.deps.storage.users.delete(username, source);
    if (id === null) return false;
    this.deps.log.info('account deleted', { user: this.bare(username), source });
    setImmediate(() => {
      endSessions(this.deps, { jid: this.bare(username), ...ENDED });
      void this.finish({ id, username, source, deletedAt: new Date(), claimedBy: null, finishedAt: null });
    });
    return true;
  }

  /** Finishes the deletions made while no node ran, then follows the journal. Call once plugins are loaded. */
  async start(intervalMs = JOURNAL_POLL_MS): Promise<void> {
    this.lastSeen = await this.deps.storage.accountDeletions.latestId();
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = null;
      });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops following the journal; waits for a poll and the deletions being finished here. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
    await Promise.allSettled([...this.finishing.values()]);
  }

  private bare(username: string): string {
    return JID.fromPrepared(username, this.deps.domain).toString();
  }

  private async poll(): Promise<void> {
    try {
      for (const entry of await this.deps.storage.accountDeletions.after(this.lastSeen, 100)) {
        if (entry.id > this.lastSeen) {
          this.lastSeen = entry.id;
          this.endLocalSessions(entry);
        }
        if (entry.finishedAt === null) await this.finish(entry);
      }
      if (this.pollFailing) this.deps.log.info('reading account deletions again');
      this.pollFailing = false;
    } catch (err) {
      if (!this.pollFailing) this.deps.log.warn('cannot read account deletions; trying again', { error: err instanceof Error ? err.message : String(err) });
      this.pollFailing = true;
    }
  }

  private endLocalSessions(entry: AccountDeletion): void {
    const until = entry.deletedAt.getTime() + CLOCK_SKEW_MS;
    for (const session of [...this.deps.sessions.ofUser(this.bare(entry.username))]) {
      if (session.startedAt.getTime() > until) continue;
      this.deps.sessions.end(session, new StreamError(ENDED.condition, ENDED.text), `account deleted (${entry.source})`);
    }
  }

  private finish(entry: AccountDeletion): Promise<void> {
    let running = this.finishing.get(entry.id);
    if (!running) {
      running = this.run(entry).catch((err: unknown) => {
        this.deps.log.error('could not finish an account deletion; another node or the next start tries again', {
          user: this.bare(entry.username), error: err instanceof Error ? err.message : String(err),
        });
      }).finally(() => this.finishing.delete(entry.id));
      this.finishing.set(entry.id, running);
    }
    return running;
  }

  private async run(entry: AccountDeletion): Promise<void> {
    const { storage, nodeId, log } = this.deps;
    const journal = storage.accountDeletions;
    if (!(await journal.claim(entry.id, nodeId, new Date(Date.now() - STALE_CLAIM_MS)))) return;
    const user = this.bare(entry.username);
    await this.removeAdmin(entry.username, user);
    await storage.authFailures.clear([accountKey(entry.username)]);
    const failed: string[] = [];
    for (const { owner, handler } of [...this.handlers]) {
      try {
        await withTimeout(Promise.resolve().then(() => handler(entry.username)), HANDLER_TIMEOUT_MS);
      } catch (err) {
        failed.push(owner);
        log.error('an account deletion handler failed; what it keeps for the account may remain', {
          user, owner, error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    await journal.finish(entry.id);
    log.info('account deletion finished', { user, source: entry.source, handlers: this.handlers.length, failed: failed.length ? failed.join(',') : undefined });
    await journal.purge(new Date(Date.now() - KEEP_FINISHED_MS)).catch(() => undefined);
  }

  /** An administrator's name must not make a future account of that name one. */
  private async removeAdmin(username: string, bare: string): Promise<void> {
    const entries = this.deps.adminJids.value.split(/[\s,]+/).filter((e) => e !== '');
    const kept = entries.filter((e) => e !== bare && e !== username);
    if (kept.length === entries.length) return;
    await this.deps.properties.set(this.deps.adminJids.definition.name, kept.join(', '));
    this.deps.log.info('removed a deleted account from admin.jids', { user: bare });
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
