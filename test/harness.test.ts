import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { isBrokerReachable } from '../src/stack/broker.js';
import { ensureMariaDb, MARIADB_ROOT_URL } from './support/mariadb.js';
import { useTestContext } from './support/context.js';

const context = useTestContext('harness');

describe('test harness', () => {
  it('runs a real broker for the whole run', async () => {
    expect(context.brokers).toHaveLength(1);
    expect(await isBrokerReachable(context.brokers)).toBe(true);
  });

  it('gives each test file its own database on the real MariaDB', async () => {
    await ensureMariaDb();
    const connection = await createConnection({ uri: context.mysqlUrl });
    try {
      const [[row]] = (await connection.query('SELECT DATABASE() AS db, VERSION() AS version')) as unknown as [
        [{ db: string; version: string }],
      ];
      expect(row.db).toBe(context.database);
      expect(row.version).toMatch(/MariaDB|^8\./);
      await connection.query('CREATE TABLE probe (id INT PRIMARY KEY)');
      await connection.query('INSERT INTO probe VALUES (1), (2)');
      const [rows] = (await connection.query('SELECT COUNT(*) AS n FROM probe')) as unknown as [[{ n: number }]];
      expect(Number(rows[0].n)).toBe(2);
    } finally {
      await connection.end();
    }
  });

  it('names topics and databases uniquely per file', () => {
    const other = context.topic('events');
    expect(other.startsWith(context.prefix)).toBe(true);
    expect(context.database).toMatch(/^kappa_t_harness_[0-9a-f]{8}$/);
    expect(MARIADB_ROOT_URL).toBe('mysql://root@127.0.0.1:3306');
  });
});
