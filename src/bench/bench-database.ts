import { createConnection } from 'mysql2/promise';

/** The local MariaDB every bench row writes to (root, no password), without a database. */
export const MYSQL_ROOT = 'mysql://root@127.0.0.1:3306';

/** Drops a bench database if it exists. */
export async function dropBenchDatabase(database: string): Promise<void> {
  const root = await createConnection({ uri: MYSQL_ROOT });
  await root.query(`DROP DATABASE IF EXISTS \`${database}\``).finally(() => root.end());
}

/** Runs `work` against a fresh database `<prefix>_<now>`, dropped afterwards whatever happens. */
export async function withBenchDatabase<T>(prefix: string, work: (mysqlUrl: string) => Promise<T>): Promise<T> {
  const database = `${prefix}_${Date.now()}`;
  const root = await createConnection({ uri: MYSQL_ROOT });
  try {
    await root.query(`CREATE DATABASE \`${database}\``);
    return await work(`${MYSQL_ROOT}/${database}`);
  } finally {
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.end();
  }
}
