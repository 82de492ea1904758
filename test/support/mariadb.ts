import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { KappaError } from '../../src/shared/errors.js';

export const MARIADB_ROOT_URL = 'mysql://root@127.0.0.1:3306';

async function answers(url: string): Promise<boolean> {
  try {
    const connection = await createConnection({ uri: url, connectTimeout: 2_000 });
    await connection.query('SELECT 1');
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the machine's MariaDB answers on 127.0.0.1:3306, starting it the way the machine's
 * notes prescribe when it is down (CI begins from whatever state the last session left).
 */
export async function ensureMariaDb(url = MARIADB_ROOT_URL, timeoutMs = 60_000): Promise<void> {
  if (await answers(url)) return;
  const started = spawnSync(
    'start-stop-daemon',
    ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd'],
    { encoding: 'utf8' },
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(url)) return;
    await sleep(500);
  }
  const detail = started.error?.message ?? `${started.stdout}${started.stderr}`.trim();
  throw new KappaError(
    'KAPPA_MARIADB_UNAVAILABLE',
    `MariaDB does not answer on ${url} and could not be started (${detail || 'no output'})`,
  );
}

/** Rows of one query on a database (dates in UTC), on a connection of its own. */
export async function sqlRows<T>(mysqlUrl: string, query: string, values: unknown[] = []): Promise<T[]> {
  const connection = await createConnection({ uri: mysqlUrl, timezone: 'Z' });
  try {
    const [rows] = await connection.query(query, values);
    return rows as T[];
  } finally {
    await connection.end();
  }
}
