// Which XMPP domain the database's data belongs to (migrations/0005-served-domain.ts): the
// first start records it, every start compares, and a mismatch stops the node with one line
// that names both domains and the command that moves the data.
import type { Knex } from 'knex';
import { ConfigError } from '../config/config-error.ts';

/** A configuration mistake (exit 2): the configured domain is not this database's. */
export class DomainMismatchError extends ConfigError {
  constructor(readonly recorded: string, readonly configured: string) {
    super(`the database holds the data of the domain ${recorded}, not of ${configured} (the configured domain): ` +
      `to move its accounts and data to ${configured}, stop every node and run 'xmppd migrate --rename-domain ${recorded} ${configured}'; ` +
      `to serve ${recorded}, set domain: ${recorded} in the configuration`);
    this.name = 'DomainMismatchError';
  }
}

export interface ServedDomainRepository {
  /** The recorded domain, or null if nothing started on this database yet. */
  get(): Promise<string | null>;
  /** Records `domain` unless one is recorded; returns the one recorded (the first node's, if two start together). */
  claim(domain: string): Promise<string>;
}

export class SqlServedDomainRepository implements ServedDomainRepository {
  constructor(private readonly knex: Knex) {}

  async get(): Promise<string | null> {
    const row = await this.knex('served_domain').where({ id: 1 }).first('domain');
    return (row?.domain as string | undefined) ?? null;
  }

  async claim(domain: string): Promise<string> {
    await this.knex('served_domain').insert({ id: 1, domain, recorded_at: new Date() }).onConflict('id').ignore();
    const recorded = await this.get();
    if (recorded === null) throw new Error('the served domain vanished after it was recorded');
    return recorded;
  }
}

/** Writes the row as part of a rename (inside its transaction). */
export async function recordServedDomain(trx: Knex, domain: string): Promise<void> {
  await trx('served_domain').insert({ id: 1, domain, recorded_at: new Date() }).onConflict('id').merge(['domain', 'recorded_at']);
}

/** At a node's start: records the domain on a new database, refuses another domain's. */
export async function claimServedDomain(repo: ServedDomainRepository, configured: string): Promise<void> {
  const recorded = await repo.claim(configured);
  if (recorded !== configured) throw new DomainMismatchError(recorded, configured);
}

/** For the administrative commands: refuses another domain's database, records nothing. */
export async function checkServedDomain(repo: ServedDomainRepository, configured: string): Promise<void> {
  const recorded = await repo.get();
  if (recorded !== null && recorded !== configured) throw new DomainMismatchError(recorded, configured);
}
