/**
 * Requests per client in fixed windows (a minute): `hit` counts one and says whether the client is
 * still within `max`, and if not how long until its window ends. Bounded memory: at most
 * `maxClients` are tracked; past that the oldest entries go (Map keeps insertion order).
 */
export class RequestCounter {
  private readonly clients = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  hit(client: string): { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number } {
    const now = this.now();
    let entry = this.clients.get(client);
    if (entry === undefined || now - entry.start >= this.windowMs) {
      this.clients.delete(client);
      entry = { start: now, count: 0 };
      this.clients.set(client, entry);
      if (this.clients.size > this.maxClients) {
        const oldest = this.clients.keys().next();
        if (oldest.done !== true) this.clients.delete(oldest.value);
      }
    }
    entry.count += 1;
    return entry.count <= this.max
      ? { allowed: true }
      : { allowed: false, retryAfterMs: entry.start + this.windowMs - now };
  }
}
