/**
 * Coalesces concurrent identical reads without ever answering with something older than the request.
 *
 * A request joins only a read that has NOT STARTED yet: the next read of its key, which starts
 * when `defer` runs it and, while another read of the key runs, not before that one settles. Each
 * answer therefore comes from a read that started after its request arrived — as fresh as one read
 * per request, so whatever held when a request arrived (a cutover that had returned, a commit) is
 * in its answer — while under load one read serves many requests. At most one read per key runs at
 * a time; a request waits at most for the running read plus its own.
 *
 * `defer` decides how long a read waits for company: the server passes `setImmediate`, so a read
 * starts after the I/O turn in which it was asked for, and every request parsed in that turn (the
 * connections whose bytes came in together) shares it; by default a read starts in the next
 * microtask, with the requests made in the same synchronous run.
 *
 * Pure: no I/O; `read` is whatever the caller's key stands for.
 */
export class FreshCoalescer<V> {
  private readonly keys = new Map<string, Slot<V>>();

  /** Reads started so far (for tests and the bench: requests / reads is the coalescing factor). */
  reads = 0;

  constructor(private readonly defer: (start: () => void) => void = queueMicrotask) {}

  /** `read()`'s result from a read started after this call; `read` must depend on `key` only. */
  run(key: string, read: () => Promise<V>): Promise<V> {
    let slot = this.keys.get(key);
    if (slot === undefined) {
      slot = { running: false };
      this.keys.set(key, slot);
    }
    if (slot.next === undefined) {
      slot.next = new Batch(read);
      if (!slot.running) this.startLater(key, slot);
    }
    return slot.next.promise;
  }

  private startLater(key: string, slot: Slot<V>): void {
    this.defer(() => {
      const batch = slot.next;
      if (batch === undefined) return;
      delete slot.next;
      slot.running = true;
      this.reads += 1;
      const running = Promise.resolve().then(batch.read);
      const settled = () => {
        slot.running = false;
        if (slot.next === undefined) this.keys.delete(key);
        else this.startLater(key, slot);
      };
      running.then(settled, settled);
      running.then(batch.resolve, batch.reject);
    });
  }
}

/** A key's state: whether a read of it runs, and the requests waiting for its next read. */
interface Slot<V> {
  running: boolean;
  next?: Batch<V>;
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
