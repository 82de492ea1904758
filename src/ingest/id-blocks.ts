/**
 * Event ids are reserved in blocks from one sequence per events topic, so generators and HTTP
 * ingest (`POST /api/events`) never hand out the same id, however many run at once. A block
 * belongs to the writer that reserved it (a generator's stable writer id, or `api`): only that
 * writer ever gets its unused remainder back. Pure: the MySQL adapter (id-sequence.ts) applies a
 * plan under a row lock.
 */

/** A generator's stable id (its buffer folder's name), or {@link API_WRITER}. */
export type WriterId = string;

/** HTTP ingest: reserves exactly the ids of each batch, never resumes. */
export const API_WRITER: WriterId = 'api';

export interface IdBlock {
  readonly first: number;
  /** One past the last id of the block. */
  readonly end: number;
}

/** The part of its last block a writer may still hold: ids from `first` to `end` not handed to anyone else. */
export interface HeldBlock extends IdBlock {
  /**
   * True when the writer stopped cleanly with its buffer empty and recorded `first` as its first
   * unused id; false while it may be writing (after a crash, `first` is where it started, and what
   * it used must be read from its buffer or the log).
   */
  readonly settled: boolean;
}

export interface SequenceState {
  /** The first id never reserved. */
  readonly next: number;
  /** The requesting writer's block (null: none, or given up). */
  readonly held: HeldBlock | null;
}

export interface ReserveRequest {
  readonly writer: WriterId;
  readonly size: number;
  /** No new block below this: one past the largest id already in the log (a sequence lost or reset stays safe). */
  readonly floor: number;
  /**
   * A restarting writer: the first id of its held block it has not used ({@link resumePoint}).
   * The rest of its own block from there is handed back — a generator keeps contiguous ids
   * across restarts, whoever reserved in between.
   */
  readonly resumeFrom?: number;
}

export function planReservation(
  state: SequenceState,
  request: ReserveRequest,
): { readonly block: IdBlock; readonly state: SequenceState } {
  const { resumeFrom } = request;
  const { held } = state;
  if (
    resumeFrom !== undefined &&
    held !== null &&
    resumeFrom >= held.first &&
    resumeFrom < held.end &&
    // A sequence that was reset below the block no longer vouches that nobody else got its ids.
    held.end <= state.next
  ) {
    const block = { first: resumeFrom, end: held.end };
    return { block, state: { next: state.next, held: { ...block, settled: false } } };
  }
  const first = Math.max(state.next, request.floor);
  const block = { first, end: first + Math.max(1, request.size) };
  return { block, state: { next: block.end, held: { ...block, settled: false } } };
}

/**
 * Where a restarting writer resumes in its held block: after `lastUsed`, the largest id it is known
 * to have used (its delivered leftover buffer, or its own records in the log), else where the held
 * part starts. Undefined when nothing is left to resume.
 */
export function resumePoint(held: HeldBlock | null, lastUsed: number | undefined): number | undefined {
  if (held === null) return undefined;
  const from = lastUsed !== undefined && lastUsed >= held.first ? lastUsed + 1 : held.first;
  return from < held.end ? from : undefined;
}

/** A clean stop with an empty buffer: `nextUnused` is exactly where the writer's held block resumes. */
export function planSettle(held: HeldBlock | null, nextUnused: number): HeldBlock | null {
  if (held === null || nextUnused < held.first || nextUnused > held.end) return held;
  return { first: nextUnused, end: held.end, settled: true };
}

/** Whether a restarting writer must look in the log for what it used of its held block. */
export function needsLogSearch(held: HeldBlock | null, leftoverLastId: number | undefined): boolean {
  return held !== null && !held.settled && leftoverLastId === undefined;
}
