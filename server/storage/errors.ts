// Failures of the storage layer that an operator must act on. Each carries a stable code
// for logs and the admin API; messages name the database but never a password.

export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

export class SchemaTooNewError extends Error {
  readonly code = 'SCHEMA_TOO_NEW';
  constructor(readonly component: string, readonly unknown: string[]) {
    super(`database schema is newer than this server (unknown migration ${unknown.map((n) => `${component}/${n}`).join(', ')}); upgrade the server`);
    this.name = 'SchemaTooNewError';
  }
}

export class PendingMigrationsError extends Error {
  readonly code = 'MIGRATIONS_PENDING';
  constructor(readonly component: string, readonly pending: string[]) {
    super(`database schema is out of date: ${pending.length} pending migration(s) ${pending.map((n) => `${component}/${n}`).join(', ')}; run \`xmppd migrate\` to apply them`);
    this.name = 'PendingMigrationsError';
  }
}

/** True for a primary-key or unique-index violation, on SQLite and on MySQL/MariaDB alike. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
