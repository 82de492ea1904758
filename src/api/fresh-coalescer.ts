/**
 * Coalesces concurrent identical reads without ever answering with something older than the request.
 *
 * A request joins only a read that has NOT STARTED yet: when no read of its key runs, one starts at
 * once for it; while one runs, the request waits for the next one, which starts when the running
 * one settles and answers every request that arrived in between. Each answer therefore comes from a
 * read that started after its request arrived — as fresh as one read per request, so whatever held
 * when a request arrived (a cutover that had returned, a commit) is in its answer — while under load
 * one read serves many requests. At most one read per key runs at a time; a request waits at most
 * for the running read plus its own.
 *
 * Pure: no I/O, no timers; `read` is whatever the caller's key stands for.
 */
export class FreshCoalescer<V> {
  private readonly keys = new Map<string, { next?: Batch<V> }>();

  /** Reads started so far (for tests and the bench: requests / reads is the coalescing factor). */
  reads = 0;

  /** `read()`'s result from a read started after this call; `read` must depend on `key` only. */
  run(key: string, read: () => Promise<V>): Promise<V> {
    const slot = this.keys.get(key);
    if (slot === undefined) {
      this.keys.set(key, {});
      return this.start(key, read);
    }
    slot.next ??= new Batch(read);
    return slot.next.promise;
  }

  private start(key: string, read: () => Promise<V>): Promise<V> {
    this.reads += 1;
    const running = Promise.resolve().then(read);
    const settled = () => {
      const slot = this.keys.get(key);
      const next = slot?.next;
      if (slot === undefined || next === undefined) {
        this.keys.delete(key);
        return;
      }
      delete slot.next;
      this.start(key, next.read).then(next.resolve, next.reject);
    };
    running.then(settled, settled);
    return running;
  }
}

/** Requests waiting for the next read of a key: one promise for all of them. */
class Batch<V> {
  readonly promise: Promise<V>;
  resolve!: (value: V) => void;
  reject!: (error: unknown) => void;

  constructor(readonly read: () => Promise<V>) {
    this.promise = new Promise<V>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}
