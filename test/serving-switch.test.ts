import { createConnection, createPool } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { ensureVersionTables } from '../src/aggregates/migrations.js';
import { Catalog } from '../src/recovery/catalog.js';
import { rollback } from '../src/recovery/operations.js';
import { servingVersion, switchReaders } from '../src/recovery/serving-pointer.js';
import { useTestContext } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

const context = useTestContext('serving-switch');
const DIMS = ['user', 'dept', 'age'] as const;

describe('the serving switch against MariaDB', () => {
  it('a crash between the pointer and its history leaves rollback working', { timeout: 60_000 }, async () => {
    const catalog = await Catalog.open(context.mysqlUrl);
    const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
    const pool = createPool({ uri: context.mysqlUrl, timezone: 'Z', connectionLimit: 2 });
    try {
      for (const version of ['v1', 'v2']) {
        await ensureVersionTables(connection, version, DIMS);
        await connection.query(
          "INSERT INTO kappa_versions (version, window_ms, slide_ms, watermark_ms, dims, state, created_at, stages_topic) VALUES (?, 10000, 10000, 5000, 'user,dept,age', 'caught-up', UTC_TIMESTAMP(3), 'stages')",
          [version],
        );
      }
      await switchReaders(pool, { version: 'v1', dims: DIMS }, { refusal: 'KAPPA_CUTOVER_REFUSED' });
      // The process dies after the RENAME moved the pointer, before the history row is written.
      const crash = new Error('killed between the pointer and the history');
      await expect(
        switchReaders(
          pool,
          { version: 'v2', dims: DIMS },
          {
            refusal: 'KAPPA_CUTOVER_REFUSED',
            expectedCurrent: 'v1',
            afterRename: () => Promise.reject(crash),
          },
        ),
      ).rejects.toBe(crash);
      expect(await servingVersion(pool)).toBe('v2');

      expect(await rollback(catalog)).toEqual({ from: 'v2', to: 'v1', unchanged: false });
      expect(await servingVersion(pool)).toBe('v1');
      expect(
        (await sqlRows<{ version: string }>(context.mysqlUrl, 'SELECT version FROM kappa_serving ORDER BY id')).map(
          (row) => row.version,
        ),
      ).toEqual(['v1', 'v2', 'v1']);
      expect(await sqlRows(context.mysqlUrl, 'SELECT version, state FROM kappa_versions ORDER BY version')).toEqual([
        { version: 'v1', state: 'serving' },
        { version: 'v2', state: 'retired' },
      ]);
    } finally {
      await connection.end();
      await pool.end();
      await catalog.close();
    }
  });
});
