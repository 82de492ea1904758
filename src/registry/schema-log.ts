import type { LogRecord } from './log-records.js';

/** Where the registry's records live: a Kafka topic in production, an array in unit tests. */
export interface SchemaLog {
  /** Appends a record; resolves to its offset once durably written. */
  append(record: LogRecord): Promise<number>;
  /** The offset the next appended record would get (the log's end). */
  endOffset(): Promise<number>;
}

/** A SchemaLog in memory, for unit tests: records are applied as soon as they are appended. */
export class MemorySchemaLog implements SchemaLog {
  readonly records: LogRecord[] = [];
  private readonly listeners: ((offset: number, record: LogRecord) => void)[] = [];

  subscribe(listener: (offset: number, record: LogRecord) => void): void {
    this.records.forEach((record, offset) => listener(offset, record));
    this.listeners.push(listener);
  }

  append(record: LogRecord): Promise<number> {
    const offset = this.records.push(record) - 1;
    // Delivered on a later tick, as a consumer would: writers must wait for their own record.
    setImmediate(() => this.listeners.forEach((listener) => listener(offset, record)));
    return Promise.resolve(offset);
  }

  endOffset(): Promise<number> {
    return Promise.resolve(this.records.length);
  }
}
