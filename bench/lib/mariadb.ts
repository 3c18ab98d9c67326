// A MariaDB/MySQL database of its own for a benchmark run, created empty and dropped at the
// end: the clustered nodes share it, as nodes of a cluster share their SQL database.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

/** Server-level URL of an account that may create and drop databases. */
export const MYSQL_ADMIN_URL = process.env.XMPPD_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export interface BenchDatabase {
  name: string;
  /** The XMPPD_DATABASE_URL of the database. */
  url: string;
  drop(): Promise<void>;
}

async function admin(): Promise<mysql.Connection> {
  const u = new URL(MYSQL_ADMIN_URL);
  try {
    return await mysql.createConnection({
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      connectTimeout: 5000,
    });
  } catch (err) {
    throw new Error(`the cluster benchmark needs MariaDB/MySQL at ${u.host} as ${decodeURIComponent(u.username) || '(no user)'} (XMPPD_BENCH_MYSQL_URL names another): ${(err as Error).message}`, { cause: err });
  }
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `xmppd_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const c = await admin();
  try {
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await c.end();
  }
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const d = await admin();
      try {
        await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await d.end();
      }
    },
  };
}
