import { createHash } from 'node:crypto';

/** How long a key is remembered: a retry after that is a new request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1_000;

/** 1 to 200 printable ASCII characters (space to `~`). */
const KEY_FORMAT = /^[\x20-\x7e]{1,200}$/;

/** Whether an `Idempotency-Key` header value is one kappa takes. */
export function validIdempotencyKey(key: string): boolean {
  return KEY_FORMAT.test(key);
}

/** The digest a retry's body is compared by: sha256 of the events as JSON, hex. */
export function bodyDigest(events: unknown): string {
  return createHash('sha256').update(JSON.stringify(events)).digest('hex');
}

/** The MySQL named lock of a key (at most 64 characters): one request per key at a time, across API processes. */
export function idempotencyLockName(sequenceKey: string, key: string): string {
  return `kappa_ingest_${createHash('sha256').update(`${sequenceKey}\u0000${key}`).digest('hex').slice(0, 40)}`;
}
