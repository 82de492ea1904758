import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { KappaError } from '../shared/errors.js';
import { IDEMPOTENCY_KEY_TTL_MS, idempotencyLockName } from './idempotency-key.js';

/** How long a keyed request waits for another request with the same key (a retry racing the first). */
const LOCK_WAIT_S = 30;

/** What a request refused with KAPPA_IDEMPOTENCY_KEY_BUSY is told to wait before retrying (Retry-After, s). */
export const KEY_BUSY_RETRY_AFTER_S = 5;

/** A keyed `POST /api/events` as first received: its ids, when, and where each partition ended before its send. */
export interface IngestRequest {
  readonly digest: string;
  readonly first: number;
  readonly last: number;
  readonly createdMs: number;
  /** Each partition's end offset before the send: the request's records lie at or after it. */
  readonly offsets: ReadonlyMap<number, string>;
  readonly done: boolean;
}

/** The keyed requests of one events topic, under the key's lock. */
export interface HeldKey {
  find(): Promise<IngestRequest | undefined>;
  insert(request: Omit<IngestRequest, 'done'>): Promise<void>;
  markDone(): Promise<void>;
}

/**
 * `kappa_ingest_requests`: keyed requests of HTTP ingest (Idempotency-Key), remembered 24 h. Each
 * key is worked on under a MySQL named lock, so a retry racing its first attempt waits for it.
 */
export class IngestRequests {
  constructor(
    private readonly pool: Pool,
    private readonly sequenceKey: string,
  ) {}

  async withKey<T>(key: string, now: number, work: (held: HeldKey) => Promise<T>): Promise<T> {
    const connection = await this.pool.getConnection();
    try {
      const lock = idempotencyLockName(this.sequenceKey, key);
      const [locked] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [lock, LOCK_WAIT_S]);
      if (Number(locked[0]?.['got']) !== 1)
        // A conflict of this request with another, not a failure of kappa (RFC draft
        // "The Idempotency-Key HTTP Header Field" §2.6: a request still being processed is a 409).
        throw new KappaError(
          'KAPPA_IDEMPOTENCY_KEY_BUSY',
          `another request with this Idempotency-Key is still running after ${LOCK_WAIT_S} s; retry it in ${KEY_BUSY_RETRY_AFTER_S} s`,
        );
      try {
        await connection.query('DELETE FROM kappa_ingest_requests WHERE created_ms < ?', [
          now - IDEMPOTENCY_KEY_TTL_MS,
        ]);
        return await work(this.held(connection, key));
      } finally {
        await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
      }
    } finally {
      connection.release();
    }
  }

  private held(connection: PoolConnection, key: string): HeldKey {
    const where = 'sequence_key = ? AND request_key = ?';
    return {
      find: async () => {
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT body_sha256, first_id, last_id, created_ms, offsets, done FROM kappa_ingest_requests WHERE ${where}`,
          [this.sequenceKey, key],
        );
        const row = rows[0];
        if (row === undefined) return undefined;
        const offsets = JSON.parse(String(row['offsets'])) as Record<string, string>;
        return {
          digest: String(row['body_sha256']),
          first: Number(row['first_id']),
          last: Number(row['last_id']),
          createdMs: Number(row['created_ms']),
          offsets: new Map(Object.entries(offsets).map(([partition, offset]) => [Number(partition), offset])),
          done: Number(row['done']) === 1,
        };
      },
      insert: async (request) => {
        await connection.query(
          `INSERT INTO kappa_ingest_requests
             (sequence_key, request_key, body_sha256, first_id, last_id, created_ms, offsets, done)
           VALUES (?, ?, ?, ?, ?, ?, ?, FALSE)`,
          [
            this.sequenceKey,
            key,
            request.digest,
            request.first,
            request.last,
            request.createdMs,
            JSON.stringify(Object.fromEntries(request.offsets)),
          ],
        );
      },
      markDone: async () => {
        await connection.query(`UPDATE kappa_ingest_requests SET done = TRUE WHERE ${where}`, [this.sequenceKey, key]);
      },
    };
  }
}
