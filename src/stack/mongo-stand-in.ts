import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { KappaError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { requireJava } from './java.js';
import { ensureMavenJars, type MavenJarSet } from './maven-jars.js';
import { freePort, isProcessAlive, spawnDetached, tailFile, terminate } from './processes.js';

/** mongo-java-server: a MongoDB wire-protocol server for tests (MongoDB itself is not installable here). */
export const MONGO_JAVA_SERVER_VERSION = '1.47.0';
const LAUNCHER = fileURLToPath(new URL('./mongo-stand-in/MongoStandIn.java', import.meta.url));
/** What /proc/<pid>/cmdline holds for the stand-in. */
const MARKER = 'MongoStandIn.java';

const JARS: MavenJarSet = {
  name: `mongo-java-server-${MONGO_JAVA_SERVER_VERSION}`,
  title: `mongo-java-server ${MONGO_JAVA_SERVER_VERSION}`,
  dependencies: [
    ['de.bwaldvogel', 'mongo-java-server', MONGO_JAVA_SERVER_VERSION],
    ['de.bwaldvogel', 'mongo-java-server-memory-backend', MONGO_JAVA_SERVER_VERSION],
    ['org.slf4j', 'slf4j-simple', '2.0.17'],
  ],
  requiredJar: `mongo-java-server-memory-backend-${MONGO_JAVA_SERVER_VERSION}.jar`,
  failure: 'KAPPA_MONGO_FETCH_FAILED',
};

export interface MongoStandIn {
  /** `mongodb://127.0.0.1:<port>` (append a database name). */
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  /** Stops the server (its data lives in memory only) and deletes its log. */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Starts mongo-java-server (in memory) on a free port in the background, its output in a log file,
 * and waits until it answers a ping. For tests and benchmarks; real MongoDB runs in compose/.
 */
export async function startMongoStandIn(options: {
  readonly cacheDir: string;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
}): Promise<MongoStandIn> {
  const java = requireJava();
  const libs = await ensureMavenJars(options.cacheDir, JARS, options.logger ?? silentLogger);
  const dir = await mkdtemp(join(tmpdir(), 'kappa-mongo-'));
  const logFile = join(dir, 'mongo.log');
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}`;
  const pid = spawnDetached(java, ['-Xmx256m', '-cp', `${libs}/*`, LAUNCHER, '127.0.0.1', String(port)], logFile);
  const stop = async (): Promise<void> => {
    if (pid !== undefined) await terminate(pid, MARKER, 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const failed = async (): Promise<never> => {
    const tail = await tailFile(logFile, 15);
    await stop();
    throw new KappaError(
      'KAPPA_MONGO_STANDIN_FAILED',
      `the MongoDB stand-in (mongo-java-server) did not answer on ${url}; last lines of its log:\n${tail}`,
    );
  };
  if (pid === undefined) return failed();
  while (!(await answers(url))) {
    if (!isProcessAlive(pid, MARKER) || Date.now() > deadline) return failed();
    await sleep(200);
  }
  return { url, pid, logFile, stop };
}
