import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { ensureDatabase, migrate } from '../aggregates/migrations.js';
import { inTransaction } from '../shared/mysql.js';
import { planReservation, type IdBlock, type IdOwner, type ReserveRequest, type SequenceState } from './id-blocks.js';

/**
 * The id sequence of an events topic in MySQL (`kappa_id_sequence`), reserved under a row lock.
 * Keyed by the Kafka cluster's id and the topic: a new cluster (a purged local broker) starts over.
 */
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

  async reserve(request: ReserveRequest): Promise<IdBlock> {
    await this.pool.query('INSERT IGNORE INTO kappa_id_sequence (sequence_key, next_id) VALUES (?, 0)', [this.key]);
    return inTransaction(this.pool, async (connection) => {
      const [rows] = await connection.query<RowDataPacket[]>(
        'SELECT next_id, last_owner, last_start FROM kappa_id_sequence WHERE sequence_key = ? FOR UPDATE',
        [this.key],
      );
      const row = rows[0];
      const state: SequenceState = {
        next: Number(row?.['next_id'] ?? 0),
        lastOwner: (row?.['last_owner'] ?? null) as IdOwner | null,
        lastStart: row?.['last_start'] === null || row?.['last_start'] === undefined ? null : Number(row['last_start']),
      };
      const plan = planReservation(state, request);
      await connection.query(
        'UPDATE kappa_id_sequence SET next_id = ?, last_owner = ?, last_start = ? WHERE sequence_key = ?',
        [plan.state.next, plan.state.lastOwner, plan.state.lastStart, this.key],
      );
      return plan.block;
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
