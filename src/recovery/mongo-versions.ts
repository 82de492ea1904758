import { MongoClient, type Db } from 'mongodb';
import type { Dimension } from '../aggregates/job-names.js';
import { readMongoDigests } from '../aggregates/mongo-digest-store.js';
import { parseDims } from '../model/version-settings.js';
import { KappaError } from '../shared/errors.js';
import type { VersionRecord, VersionState } from './catalog.js';
import type { VersionSource } from './version-source.js';

/** The versions a MongoDB sink wrote (`kappa aggregate --sink mongodb`): its `kappa_versions`, progress and digests. */
export class MongoVersions implements VersionSource {
  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  /** Connects to the database named in the URL's path; fails within `timeoutMs` when no server answers. */
  static async open(mongodbUrl: string, timeoutMs = 3_000): Promise<MongoVersions> {
    const client = new MongoClient(mongodbUrl, { serverSelectionTimeoutMS: timeoutMs });
    await client.connect();
    return new MongoVersions(client, client.db());
  }

  async version(name: string): Promise<VersionRecord> {
    const doc = await this.db.collection('kappa_versions').findOne({ _id: name as never });
    if (doc === null)
      throw new KappaError('KAPPA_VERSION_UNKNOWN', `job version ${name} exists neither in MySQL nor in MongoDB`);
    return {
      version: name,
      settings: {
        sizeMs: Number(doc['window_ms']),
        slideMs: Number(doc['slide_ms']),
        delayMs: Number(doc['watermark_ms']),
      },
      dims: parseDims(String(doc['dims'])),
      state: String(doc['state']) as VersionState,
      topic: String(doc['stages_topic'] ?? ''),
      tzVersion: typeof doc['tz_version'] === 'string' ? doc['tz_version'] : null,
    };
  }

  async progress(version: string, topic: string): Promise<{ partition: number; watermark: number | null }[]> {
    const docs = await this.db.collection('kappa_progress').find({ version, topic }).toArray();
    return docs
      .map((doc) => ({
        partition: Number(doc['partition']),
        watermark:
          doc['watermark_ms'] === null || doc['watermark_ms'] === undefined ? null : Number(doc['watermark_ms']),
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  digests(version: string, dim: Dimension): ReturnType<typeof readMongoDigests> {
    return readMongoDigests(this.db, version, dim);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
