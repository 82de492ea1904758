import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { ensureDatabase, migrate } from '../aggregates/migrations.js';
import { KappaError } from '../shared/errors.js';
import { inTransaction } from '../shared/mysql.js';
import {
  planReservation,
  planSettle,
  type HeldBlock,
  type IdBlock,
  type ReserveRequest,
  type WriterId,
} from './id-blocks.js';

/**
 * The id sequence of an events topic in MySQL (`kappa_id_sequence`, and each writer's held block
 * in `kappa_id_blocks`), reserved under the sequence row's lock. Keyed by the Kafka cluster's id
 * and the topic: a new cluster (a purged local broker) starts over.
 */
/** mysql2's codes of failures worth retrying: the server or connection, and lock waits — not an SQL error. */
const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);

/** A transient MySQL failure becomes a retriable KappaError (retry.ts decides from that flag); others pass as they are. */
export function asSequenceError(error: unknown): never {
  const { code, fatal } = (error ?? {}) as { code?: unknown; fatal?: unknown };
  if (fatal === true || (typeof code === 'string' && TRANSIENT.has(code)))
    throw new KappaError(
      'KAPPA_ID_SEQUENCE_UNAVAILABLE',
      `the event id sequence in MySQL is unavailable: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  throw error;
}

export class IdSequence {
  private constructor(
    private readonly pool: Pool,
    private readonly key: string,
  ) {}

  /** `clusterId` from the Kafka admin client's describeCluster(). */
  static async open(mysqlUrl: string, clusterId: string, topic: string): Promise<IdSequence> {
    await ensureDatabase(mysqlUrl);
    const pool = createPool({ uri: mysqlUrl, connectionLimit: 2, supportBigNumbers: true, bigNumberStrings: true });
    const connection = await pool.getConnection();
    try {
      await migrate(connection);
    } finally {
      connection.release();
    }
    return new IdSequence(pool, `${clusterId}/${topic}`);
  }

  /** The block `writer` holds, if any (read before a restart decides where to resume). */
  async held(writer: WriterId): Promise<HeldBlock | null> {
    const connection = await this.pool.getConnection().catch(asSequenceError);
    try {
      return await this.readHeld(connection, writer, false).catch(asSequenceError);
    } finally {
      connection.release();
    }
  }

  reserve(request: ReserveRequest): Promise<IdBlock> {
    return this.reserveIn(request).catch(asSequenceError);
  }

  private async reserveIn(request: ReserveRequest): Promise<IdBlock> {
    await this.pool.query('INSERT IGNORE INTO kappa_id_sequence (sequence_key, next_id) VALUES (?, 0)', [this.key]);
    return inTransaction(this.pool, async (connection) => {
      const [rows] = await connection.query<RowDataPacket[]>(
        'SELECT next_id FROM kappa_id_sequence WHERE sequence_key = ? FOR UPDATE',
        [this.key],
      );
      const held = await this.readHeld(connection, request.writer, true);
      const plan = planReservation({ next: Number(rows[0]?.['next_id'] ?? 0), held }, request);
      await connection.query('UPDATE kappa_id_sequence SET next_id = ? WHERE sequence_key = ?', [
        plan.state.next,
        this.key,
      ]);
      await this.writeHeld(connection, request.writer, plan.state.held);
      return plan.block;
    });
  }

  /** A clean stop with an empty buffer: records `nextUnused` as where `writer` resumes. */
  async settle(writer: WriterId, nextUnused: number): Promise<void> {
    await inTransaction(this.pool, async (connection) => {
      const held = await this.readHeld(connection, writer, true);
      await this.writeHeld(connection, writer, planSettle(held, nextUnused));
    });
  }

  private async readHeld(connection: PoolConnection, writer: WriterId, lock: boolean): Promise<HeldBlock | null> {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT first_id, end_id, settled FROM kappa_id_blocks WHERE sequence_key = ? AND writer_id = ?${lock ? ' FOR UPDATE' : ''}`,
      [this.key, writer],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return { first: Number(row['first_id']), end: Number(row['end_id']), settled: Boolean(row['settled']) };
  }

  private async writeHeld(connection: PoolConnection, writer: WriterId, held: HeldBlock | null): Promise<void> {
    if (held === null) {
      await connection.query('DELETE FROM kappa_id_blocks WHERE sequence_key = ? AND writer_id = ?', [
        this.key,
        writer,
      ]);
      return;
    }
    await connection.query(
      `INSERT INTO kappa_id_blocks (sequence_key, writer_id, first_id, end_id, settled) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE first_id = VALUES(first_id), end_id = VALUES(end_id), settled = VALUES(settled)`,
      [this.key, writer, held.first, held.end, held.settled],
    );
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
