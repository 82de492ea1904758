/**
 * Serialised bodies kept for as long as what they were read from has not changed.
 *
 * A version's window rows change only in the sink's commits, and each commit moves its partition's
 * `commit_seq` in the same transaction (mysql-sink.ts); `commit_seq` only grows. So the stamp — the
 * version a read resolves to and its partitions' `commit_seq` — is the same at two instants exactly
 * when no commit changed that version's rows between them. A read asks the stamp first (a few
 * progress rows) and reads the rows only when the stamp differs from the one its key's kept body
 * was read under.
 *
 * Why a kept body is as fresh as a read of its own: the body was read AFTER its stamp S0 was read.
 * A later request whose stamp read returns S0 again proves no commit of that version between the two
 * stamp reads, so the rows at its stamp read — the state it must not be older than — are the rows
 * the body was read from. A body is kept only when its rows came from the stamp's version (a switch
 * between the two statements is not kept).
 *
 * Pure: no I/O; the caller passes the two reads. Bounded: at most `maxBytes` of bodies, the least
 * recently used dropped first.
 */
export interface Stamp {
  /** The version the read resolves to (the serving one when none was asked for). */
  readonly version: string;
  /** Its progress rows' commit numbers, in a fixed order. */
  readonly commits: string;
}

export interface StampedRead {
  readonly version: string;
  readonly body: Buffer;
}

/** 32 MiB: ~2,500 bodies of the windows route's default 100 rows, or 25 of its largest page. */
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

export class StampedBodies {
  private readonly kept = new Map<string, { readonly stamp: string; readonly body: Buffer }>();
  private bytes = 0;
  /** Reads that returned a kept body, and reads that read the rows (for tests and the bench). */
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /**
   * `readBody()`'s body, or the one kept for `key` when `readStamp()` (asked first, always) returns
   * the stamp it was read under. `readStamp` returning undefined (no stamp to be had: nothing serves,
   * no such version) reads the body and keeps nothing.
   */
  async read(
    key: string,
    readStamp: () => Promise<Stamp | undefined>,
    readBody: () => Promise<StampedRead>,
  ): Promise<Buffer> {
    const stamp = await readStamp();
    const text = stamp === undefined ? undefined : `${stamp.version}\n${stamp.commits}`;
    const kept = this.kept.get(key);
    if (kept !== undefined && kept.stamp === text) {
      this.hits += 1;
      // Most recently used last: Map keeps insertion order.
      this.kept.delete(key);
      this.kept.set(key, kept);
      return kept.body;
    }
    this.misses += 1;
    const read = await readBody();
    if (text !== undefined && read.version === stamp?.version) this.keep(key, text, read.body);
    else this.drop(key);
    return read.body;
  }

  /** Bodies kept now (for tests). */
  get size(): number {
    return this.kept.size;
  }

  private keep(key: string, stamp: string, body: Buffer): void {
    this.drop(key);
    if (body.length > this.maxBytes) return;
    this.kept.set(key, { stamp, body });
    this.bytes += body.length;
    for (const [oldest, entry] of this.kept) {
      if (this.bytes <= this.maxBytes) break;
      this.kept.delete(oldest);
      this.bytes -= entry.body.length;
    }
  }

  private drop(key: string): void {
    const kept = this.kept.get(key);
    if (kept === undefined) return;
    this.kept.delete(key);
    this.bytes -= kept.body.length;
  }
}
