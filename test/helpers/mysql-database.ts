// A MariaDB database of its own for each test server, so runs never collide. MariaDB
// must be reachable: a missing dependency fails the test rather than skipping it.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { TestDatabase } from './server-process.ts';

export const MYSQL_HOST = process.env.XMPPD_TEST_MYSQL_HOST ?? '127.0.0.1';
export const MYSQL_PORT = Number(process.env.XMPPD_TEST_MYSQL_PORT ?? 3306);

export async function createMysqlDatabase(): Promise<TestDatabase> {
  const name = `xmppd_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root' }).catch((err: Error) => {
    throw new Error(`MariaDB is needed for this test at ${MYSQL_HOST}:${MYSQL_PORT} (root, no password): ${err.message}`);
  });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const url = `mysql://root@${MYSQL_HOST}:${MYSQL_PORT}/${name}`;
  return {
    config: { type: 'mysql', url },
    url,
    async drop() {
      const c = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root' });
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}
