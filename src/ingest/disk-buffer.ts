import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { KappaError } from '../shared/errors.js';

/** One record as buffered: its partition is fixed when it is generated, its value already encoded. */
export interface BufferedRecord {
  readonly id: number;
  readonly partition: number;
  /** Confluent wire format (magic byte, schema id, Avro); base64 in the chunk's file. */
  readonly value: Buffer;
}

/**
 * The most records in one chunk: one write and fsync, and a request of up to a third of it per
 * partition (3 partitions). A chunk costs an fsync and three acknowledged requests whatever its
 * size: at 2,000 a request carried ~670 records; 6,000 measured 0.51-0.53 of the plain producer,
 * 12,000 0.59-0.66 (issue 27; bench/README.md, "fifth pass"). A request of 4,000 of the generator's
 * records is ~600 kB before gzip, inside the broker's 1 MiB batch limit. ingest-run.ts's id blocks
 * are a multiple of it.
 */
export const CHUNK_MAX = 12_000;

export interface Chunk {
  readonly firstId: number;
  readonly records: readonly BufferedRecord[];
}

const chunkSchema = z.object({
  firstId: z.number().int().nonnegative(),
  records: z.array(
    z.object({ id: z.number().int().nonnegative(), partition: z.number().int().nonnegative(), value: z.string() }),
  ),
});

/**
 * A chunk's file: JSON, each value in base64. Written as text directly (ids and partitions are
 * numbers, base64 needs no escaping): the same text JSON.stringify gives, without an object per record.
 */
export function chunkText(chunk: Chunk): string {
  const records = chunk.records.map(
    (record) => `{"id":${record.id},"partition":${record.partition},"value":"${record.value.toString('base64')}"}`,
  );
  return `{"firstId":${chunk.firstId},"records":[${records.join(',')}]}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Zero-padded ids sort as text in id order. */
const fileName = (firstId: number) => `chunk-${String(firstId).padStart(16, '0')}.json`;

/**
 * Fluentd's file buffer (one per writer, in its own folder: writer-lock.ts): every generated chunk is on disk (written, fsynced, renamed into place)
 * before it is sent, and deleted only once the broker has acknowledged it. A crash or a broker
 * outage loses nothing; chunks are sent in id order.
 */
export class DiskBuffer {
  private constructor(
    private readonly dir: string,
    private readonly syncFolder: (dir: string) => Promise<void>,
  ) {}

  /** `syncFolder` is a seam for tests (default: fsync the folder). */
  static async open(dir: string, syncFolder: (dir: string) => Promise<void> = fsyncFolder): Promise<DiskBuffer> {
    await mkdir(dir, { recursive: true });
    // A .tmp file is a chunk whose write was interrupted: it was never acknowledged to anyone.
    for (const name of await readdir(dir)) if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
    return new DiskBuffer(dir, syncFolder);
  }

  async append(chunk: Chunk): Promise<void> {
    const path = join(this.dir, fileName(chunk.firstId));
    const file = await open(`${path}.tmp`, 'w');
    try {
      await file.writeFile(chunkText(chunk));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(`${path}.tmp`, path);
    // The rename is an entry of the folder: until the folder is fsynced, a power loss may forget it
    // (the chunk's bytes are on disk, its name is not), losing generated records.
    await this.syncFolder(this.dir);
  }

  /** The buffered chunks, oldest first. */
  async chunks(): Promise<Chunk[]> {
    const names = (await readdir(this.dir)).filter((name) => /^chunk-\d{16}\.json$/.test(name)).sort();
    const chunks: Chunk[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const parsed = chunkSchema.safeParse(parseJson(await readFile(path, 'utf8')));
      if (!parsed.success)
        throw new KappaError('KAPPA_INGEST_BUFFER_CORRUPT', `corrupt buffer chunk ${path}: ${parsed.error.message}`);
      const { firstId, records } = parsed.data;
      chunks.push({
        firstId,
        records: records.map(({ id, partition, value }) => ({ id, partition, value: Buffer.from(value, 'base64') })),
      });
    }
    return chunks;
  }

  async remove(chunk: Chunk): Promise<void> {
    await rm(join(this.dir, fileName(chunk.firstId)), { force: true });
  }
}

/** fsync of a folder: makes the renames and removals in it durable (POSIX: open it read-only, fsync). */
export async function fsyncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * The records of buffered chunks that are not in the topic yet. Per partition the producer keeps
 * order, so a record is already there exactly when its id is at most the partition's last id.
 */
export function undelivered(
  records: readonly BufferedRecord[],
  lastIds: ReadonlyMap<number, number>,
): BufferedRecord[] {
  return records.filter((record) => record.id > (lastIds.get(record.partition) ?? -1));
}
