import { createConnection, createPool, type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVersionTables } from '../src/aggregates/migrations.js';
import { Queries } from '../src/api/queries.js';
import { TOP_DEFAULT_RECENT_MS } from '../src/api/routes/top.js';
import { useTestContext } from './support/context.js';

/**
 * Issue 22: `GET /api/top/users` without `from` must not group a version's whole table; it sums
 * the last day of windows before `to`, or before the newest window. Against real MariaDB.
 */
const context = useTestContext('top-users-range');
let pool: Pool;

beforeAll(async () => {
  const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
  await ensureVersionTables(connection, 'v1', ['user']);
  // Kim: one event a day for 3 days; Lee: 5 events on the last day only.
  const rows = [
    ['2026-12-01 10:00:00', 'Kim', 1],
    ['2026-12-02 10:00:00', 'Kim', 1],
    ['2026-12-03 10:00:00', 'Kim', 1],
    ['2026-12-03 09:00:00', 'Lee', 5],
  ];
  for (const [start, user, count] of rows)
    await connection.query(
      'INSERT INTO events_users_v1 (window_start, window_end, user_name, count) VALUES (?, DATE_ADD(?, INTERVAL 10 SECOND), ?, ?)',
      [start, start, user, count],
    );
  await connection.end();
  pool = createPool({ uri: context.mysqlUrl, timezone: 'Z' });
});
afterAll(() => pool.end());

describe('top users without from', () => {
  it('sums only the day before the newest window', async () => {
    const top = await new Queries(pool).topUsers({ version: 'v1', n: 10, recentMs: TOP_DEFAULT_RECENT_MS });
    expect(top).toEqual([
      { user_name: 'Lee', count: 5 },
      { user_name: 'Kim', count: 1 },
    ]);
  });

  it('sums only the day before to, when to is given', async () => {
    const top = await new Queries(pool).topUsers({
      version: 'v1',
      n: 10,
      to: new Date('2026-12-02T12:00:00Z'),
      recentMs: TOP_DEFAULT_RECENT_MS,
    });
    expect(top).toEqual([{ user_name: 'Kim', count: 1 }]);
  });

  it('sums everything from from, when from is given', async () => {
    const top = await new Queries(pool).topUsers({ version: 'v1', n: 10, from: new Date('2026-11-01T00:00:00Z') });
    expect(top).toEqual([
      { user_name: 'Lee', count: 5 },
      { user_name: 'Kim', count: 3 },
    ]);
  });
});
