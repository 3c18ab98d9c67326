// A MariaDB/MySQL database of its own for a benchmark run, created empty and dropped at the
// end: the clustered nodes share it, as nodes of a cluster share their SQL database.
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/scratch-database.ts';

/** Server-level URL of an account that may create and drop databases. */
export const MYSQL_ADMIN_URL = process.env.XMPPD_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export type BenchDatabase = ScratchDatabase;

export function createBenchDatabase(): Promise<BenchDatabase> {
  return createScratchDatabase(MYSQL_ADMIN_URL, 'xmppd_bench', 'the cluster benchmark needs MariaDB/MySQL at %s (XMPPD_BENCH_MYSQL_URL names another)');
}
