// A MariaDB/MySQL database of its own, created empty and dropped after use: what each test
// run and each cluster benchmark run works in, so that runs never share state.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

export interface ScratchDatabase {
  name: string;
  /** The XMPPD_DATABASE_URL of the database. */
  url: string;
  drop(): Promise<void>;
}

/**
 * `adminUrl`: server-level URL (no database) of an account that may create and drop
 * databases. `unreachable` says, in the error, who needs the server and how to name another.
 */
export async function createScratchDatabase(adminUrl: string, prefix: string, unreachable: string): Promise<ScratchDatabase> {
  const connect = async (): Promise<mysql.Connection> => {
    const u = new URL(adminUrl);
    try {
      return await mysql.createConnection({
        host: u.hostname,
        port: u.port ? Number(u.port) : 3306,
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        connectTimeout: 5000,
      });
    } catch (err) {
      const where = `${u.hostname}:${u.port || 3306} as ${decodeURIComponent(u.username) || '(no user)'}`;
      throw new Error(`${unreachable.replace('%s', where)}: ${(err as Error).message}`, { cause: err });
    }
  };
  const run = async (sql: string): Promise<void> => {
    const c = await connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await run(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS \`${name}\``) };
}
