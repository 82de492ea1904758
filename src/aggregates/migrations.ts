import { createConnection, type Connection } from 'mysql2/promise';
import { dimensionSpec, type Dimension } from '../model/dimensions.js';
import { jobNames } from './job-names.js';
import { MIGRATIONS_LOCK_WAIT_S, takeMigrationsLock } from './migration-lock.js';

/**
 * Versioned migrations of kappa's own tables, run at start-up by every aggregator, catalog command
 * and ingest (idempotent, serialised with a named lock: migration-lock.ts). Plain SQL that MySQL 8
 * and MariaDB 10.11 both accept. Every table kappa creates is here, except each version's result
 * tables (ensureVersionTables), whose names and columns come from the version.
 */
const MIGRATIONS: readonly { readonly id: number; readonly statements: readonly string[] }[] = [
  {
    id: 1,
    statements: [
      `CREATE TABLE IF NOT EXISTS kappa_versions (
         version VARCHAR(16) NOT NULL PRIMARY KEY,
         window_ms BIGINT NOT NULL,
         slide_ms BIGINT NOT NULL,
         watermark_ms BIGINT NOT NULL,
         dims VARCHAR(64) NOT NULL,
         state VARCHAR(16) NOT NULL,
         created_at DATETIME(3) NOT NULL
       )`,
      `CREATE TABLE IF NOT EXISTS kappa_progress (
         version VARCHAR(16) NOT NULL,
         topic VARCHAR(249) NOT NULL,
         partition_id INT NOT NULL,
         next_offset BIGINT NOT NULL,
         late_events BIGINT NOT NULL,
         watermark_ms BIGINT NULL,
         snapshot LONGTEXT NOT NULL,
         updated_at DATETIME(3) NOT NULL,
         PRIMARY KEY (version, topic, partition_id)
       )`,
    ],
  },
  {
    // Recovery and cutover (issue 7): which topic a version reads, and who served when.
    id: 2,
    statements: [
      `ALTER TABLE kappa_versions ADD COLUMN stages_topic VARCHAR(249) NULL`,
      `CREATE TABLE IF NOT EXISTS kappa_serving (
         id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         version VARCHAR(16) NOT NULL,
         switched_at DATETIME(3) NOT NULL
       )`,
    ],
  },
  {
    // HTTP ingest (issue 8): event ids reserved in blocks, one sequence per events topic of a
    // cluster (`<cluster id>/<topic>`: a purged local broker starts a new sequence).
    id: 3,
    statements: [
      `CREATE TABLE IF NOT EXISTS kappa_id_sequence (
         sequence_key VARCHAR(320) NOT NULL PRIMARY KEY,
         next_id BIGINT NOT NULL,
         last_owner VARCHAR(16) NULL,
         last_start BIGINT NULL
       )`,
    ],
  },
  {
    // Issue 13: a version records all its settings; per-partition commit numbers (a stale owner's
    // commit is refused even when it does not move the offset), late windows and bad records;
    // kappa's own tables compare text exactly (topic names are case-sensitive), whatever the
    // server's default collation.
    id: 4,
    statements: [
      // One column per statement: DDL is not transactional, and a start killed half-way through
      // leaves some applied (migrate skips a column that exists).
      `ALTER TABLE kappa_versions ADD COLUMN time_zone VARCHAR(64) NULL`,
      `ALTER TABLE kappa_versions ADD COLUMN sink VARCHAR(16) NULL`,
      `ALTER TABLE kappa_progress ADD COLUMN commit_seq BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE kappa_progress ADD COLUMN late_windows BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE kappa_progress ADD COLUMN bad_records BIGINT NOT NULL DEFAULT 0`,
      ...['kappa_versions', 'kappa_progress', 'kappa_serving', 'kappa_id_sequence'].map(
        (table) => `ALTER TABLE ${table} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
      ),
    ],
  },
  {
    // Issue 28: each id-sequence writer's held block (src/ingest/id-blocks.ts), created until now by
    // IdSequence.open itself — a database it already made keeps its table and rows (IF NOT EXISTS) —
    // and, like kappa_id_sequence's keys, compared exactly (topic names are case-sensitive).
    id: 5,
    statements: [
      `CREATE TABLE IF NOT EXISTS kappa_id_blocks (
         sequence_key VARCHAR(320) NOT NULL,
         writer_id VARCHAR(64) NOT NULL,
         first_id BIGINT NOT NULL,
         end_id BIGINT NOT NULL,
         settled BOOLEAN NOT NULL,
         PRIMARY KEY (sequence_key, writer_id)
       )`,
      `ALTER TABLE kappa_id_blocks CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    ],
  },
  {
    // Issue 28: the tz database release a version was created with (shared/tz-database.ts); NULL
    // for versions created before: unknown, and left so (the release they used is not known).
    id: 6,
    statements: [`ALTER TABLE kappa_versions ADD COLUMN tz_version VARCHAR(16) NULL`],
  },
  {
    // Issue 26: per (version, dimension, window) an order-independent digest of the window's rows
    // (window-digest.ts), written in the transaction that writes the rows; `kappa verify` compares them.
    id: 7,
    statements: [
      `CREATE TABLE IF NOT EXISTS kappa_window_digests (
         version VARCHAR(16) NOT NULL,
         dim VARCHAR(16) NOT NULL,
         window_start_ms BIGINT NOT NULL,
         digest DECIMAL(20,0) NOT NULL,
         total BIGINT NOT NULL,
         PRIMARY KEY (version, dim, window_start_ms)
       ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    ],
  },
  {
    // Issue 22: keyed HTTP ingest requests (Idempotency-Key, src/api/ingest-requests.ts): a retry
    // gets the ids first reserved and resends only what the log lacks (each partition is scanned
    // from its end offset before the first send). Kept 24 h.
    id: 8,
    statements: [
      `CREATE TABLE IF NOT EXISTS kappa_ingest_requests (
         sequence_key VARCHAR(320) NOT NULL,
         request_key VARCHAR(200) NOT NULL,
         body_sha256 CHAR(64) NOT NULL,
         first_id BIGINT NOT NULL,
         last_id BIGINT NOT NULL,
         created_ms BIGINT NOT NULL,
         offsets TEXT NOT NULL,
         done BOOLEAN NOT NULL,
         PRIMARY KEY (sequence_key, request_key),
         KEY created (created_ms)
       ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    ],
  },
  {
    // KAPPA_MAX_FUTURE decides which records are future-time (bad): recorded per version like its
    // other settings. NULL for versions created before: their next start records the bound it uses.
    id: 9,
    statements: [`ALTER TABLE kappa_versions ADD COLUMN max_future_ms BIGINT NULL`],
  },
  {
    // Issue 26: a candidate's replay plan, shown by `kappa status --json`, the versions API and the
    // dashboard while it catches up. `recover --plan` records its figures (planned_*, expected_*,
    // estimate_seconds); `recover` records what it has to read when it starts (started_*), keeping
    // the planned figures only when they were planned for the same topics and window settings.
    id: 10,
    statements: [
      `CREATE TABLE IF NOT EXISTS kappa_replay_plans (
         version VARCHAR(16) NOT NULL PRIMARY KEY,
         stages_topic VARCHAR(249) NOT NULL,
         source_topic VARCHAR(249) NOT NULL,
         window_ms BIGINT NOT NULL,
         slide_ms BIGINT NOT NULL,
         watermark_ms BIGINT NOT NULL,
         planned_at_ms BIGINT NULL,
         planned_records BIGINT NULL,
         expected_late BIGINT NULL,
         compared_with VARCHAR(16) NULL,
         expected_recovered BIGINT NULL,
         estimate_seconds DOUBLE NULL,
         started_at_ms BIGINT NULL,
         started_records BIGINT NULL,
         done_at_start BIGINT NULL
       ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    ],
  },
  {
    // Issue 27: the records each partition's progress has read, by writer schema id
    // (aggregates/schema-counts.ts), so recover's preflight reads only the log beyond them. NULL: not
    // known (progress committed before this column, or never counted).
    id: 11,
    statements: ['ALTER TABLE kappa_progress ADD COLUMN schema_counts TEXT NULL'],
  },
];

export interface MigrateOptions {
  /** How long to wait for another process's migrations before failing with KAPPA_MIGRATIONS_LOCKED. */
  readonly lockWaitSeconds?: number;
}

/** Applies the migrations the database lacks, under its migrations lock; returns how many. */
export async function migrate(connection: Connection, options: MigrateOptions = {}): Promise<number> {
  await connection.query(
    'CREATE TABLE IF NOT EXISTS kappa_migrations (id INT NOT NULL PRIMARY KEY, applied_at DATETIME(3) NOT NULL)',
  );
  const release = await takeMigrationsLock(connection, options.lockWaitSeconds ?? MIGRATIONS_LOCK_WAIT_S);
  try {
    const [rows] = await connection.query('SELECT id FROM kappa_migrations');
    const applied = new Set((rows as { id: number }[]).map((row) => row.id));
    let count = 0;
    for (const migration of MIGRATIONS.filter((entry) => !applied.has(entry.id))) {
      for (const statement of migration.statements) {
        // A migration cut short (kill -9 between two DDL statements, which MySQL commits one by
        // one) is run again from its start: a column it already added is not an error.
        await connection.query(statement).catch((error: unknown) => {
          if ((error as { code?: string }).code !== 'ER_DUP_FIELDNAME') throw error;
        });
      }
      await connection.query('INSERT INTO kappa_migrations (id, applied_at) VALUES (?, UTC_TIMESTAMP(3))', [
        migration.id,
      ]);
      count += 1;
    }
    return count;
  } finally {
    await release();
  }
}

/**
 * The collation that compares keys exactly (SPEC §1.3): binary and NO PAD, so `Kim`, `KIM`, `Lée`
 * and `Lee ` (trailing space) are all different keys. `utf8mb4_bin` is PAD SPACE on both servers
 * (`'Lee' = 'Lee '`); the no-pad binary collation has another name on each: MySQL 8's
 * `utf8mb4_0900_bin`, MariaDB's `utf8mb4_nopad_bin`.
 */
export async function exactCollation(connection: Connection): Promise<string> {
  const [rows] = await connection.query(
    "SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')",
  );
  const found = (rows as { name: string }[]).map((row) => row.name);
  return found.includes('utf8mb4_0900_bin') ? 'utf8mb4_0900_bin' : (found[0] ?? 'utf8mb4_bin');
}

/** The result tables of one job version (`events_users_v1` …), times in UTC, keys compared exactly. */
export async function ensureVersionTables(
  connection: Connection,
  version: string,
  dims: readonly Dimension[],
): Promise<void> {
  const names = jobNames(version);
  const collation = await exactCollation(connection);
  for (const dim of dims) {
    const spec = dimensionSpec(dim);
    const type = spec.numeric ? spec.sqlType : `${spec.sqlType} CHARACTER SET utf8mb4 COLLATE ${collation}`;
    await connection.query(
      `CREATE TABLE IF NOT EXISTS \`${names.table(dim)}\` (
         window_start DATETIME(3) NOT NULL,
         window_end DATETIME(3) NOT NULL,
         \`${names.column(dim)}\` ${type} NOT NULL,
         count BIGINT NOT NULL,
         idle_closed BOOLEAN NOT NULL DEFAULT FALSE,
         PRIMARY KEY (window_start, \`${names.column(dim)}\`)
       ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
  }
}

/**
 * Creates the database named in the URL when it does not exist yet, so `kappa aggregate` works on a
 * fresh server. Without the privilege to create databases this is a no-op: the connection that
 * follows then reports the real problem.
 */
export async function ensureDatabase(mysqlUrl: string): Promise<void> {
  const url = new URL(mysqlUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/';
  const connection = await createConnection({ uri: url.toString() });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database.replace(/`/g, '')}\``);
  } catch {
    // No CREATE privilege: the database may well exist already.
  } finally {
    await connection.end();
  }
}
