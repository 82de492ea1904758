/**
 * Event ids are reserved in blocks from one sequence per events topic, so the generator and HTTP
 * ingest (`POST /api/events`) never hand out the same id, even when both run at once. Pure: the
 * MySQL adapter (id-sequence.ts) applies a plan under a row lock.
 */

export type IdOwner = 'generator' | 'api';

export interface SequenceState {
  /** The first id never reserved. */
  readonly next: number;
  /** Who reserved the last block, and where it started (null before the first). */
  readonly lastOwner: IdOwner | null;
  readonly lastStart: number | null;
}

export interface ReserveRequest {
  readonly owner: IdOwner;
  readonly size: number;
  /** No id below this: one past the largest id already in the log (a sequence lost or reset stays safe). */
  readonly floor: number;
  /**
   * The generator, restarting: the first id it has not written. When the last block is its own and
   * this lies inside it, the rest of that block is handed back — a generator running alone keeps
   * contiguous ids across restarts.
   */
  readonly resumeFrom?: number;
}

export interface IdBlock {
  readonly first: number;
  /** One past the last id of the block. */
  readonly end: number;
}

export function planReservation(
  state: SequenceState,
  request: ReserveRequest,
): { readonly block: IdBlock; readonly state: SequenceState } {
  const { resumeFrom } = request;
  if (
    resumeFrom !== undefined &&
    state.lastOwner === request.owner &&
    state.lastStart !== null &&
    resumeFrom >= state.lastStart &&
    resumeFrom < state.next &&
    resumeFrom >= request.floor
  ) {
    return { block: { first: resumeFrom, end: state.next }, state };
  }
  const first = Math.max(state.next, request.floor);
  const end = first + Math.max(1, request.size);
  return { block: { first, end }, state: { next: end, lastOwner: request.owner, lastStart: first } };
}
