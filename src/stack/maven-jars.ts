import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KappaError, type ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { requireMaven } from './java.js';

const COMPLETE_MARKER = '.complete';

/** A set of jars fetched from Maven Central with their runtime dependencies, cached per machine. */
export interface MavenJarSet {
  /** Names the cache folder, e.g. `kafka-3.9.2`: `<cacheDir>/<name>/libs`. */
  readonly name: string;
  /** What the set is, for messages: `Apache Kafka 3.9.2`. */
  readonly title: string;
  readonly dependencies: readonly (readonly [group: string, artifact: string, version: string])[];
  /** A jar that must be there when the fetch succeeded. */
  readonly requiredJar: string;
  /** The error code when the fetch fails. */
  readonly failure: ErrorCode;
}

/** The pom whose runtime dependencies are the set's jars. */
export function renderPom(set: MavenJarSet): string {
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>dev.kappa.local</groupId>',
    `  <artifactId>${set.name}</artifactId>`,
    '  <version>1</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    ...set.dependencies.map(
      ([group, artifact, version]) =>
        `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`,
    ),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

export function mavenLibsDir(cacheDir: string, set: Pick<MavenJarSet, 'name'>): string {
  return join(cacheDir, set.name, 'libs');
}

async function runMaven(workDir: string, logFile: string): Promise<number> {
  const log = await open(logFile, 'w');
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(
        'mvn',
        ['-B', '-q', 'dependency:copy-dependencies', '-DincludeScope=runtime', '-DoutputDirectory=libs'],
        { cwd: workDir, stdio: ['ignore', log.fd, log.fd] },
      );
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await log.close();
  }
}

/**
 * Returns the directory holding the set's jars, fetching them from Maven Central the first time.
 * Safe against concurrent callers: each fetches into its own temporary folder and renames it into
 * place; a half-finished download never looks complete.
 */
export async function ensureMavenJars(cacheDir: string, set: MavenJarSet, logger: Logger): Promise<string> {
  const libs = mavenLibsDir(cacheDir, set);
  if (existsSync(join(libs, COMPLETE_MARKER))) return libs;
  requireMaven();
  const target = join(cacheDir, set.name);
  const work = `${target}.fetch-${process.pid}-${Date.now()}`;
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'pom.xml'), renderPom(set));
  logger.info({ jars: set.title, cacheDir }, 'fetching jars from Maven Central (first run only)');
  const logFile = join(work, 'maven.log');
  const code = await runMaven(work, logFile);
  if (code !== 0 || !existsSync(join(work, 'libs', set.requiredJar))) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    await rm(work, { recursive: true, force: true });
    throw new KappaError(set.failure, `fetching ${set.title} with Maven failed (exit ${code}):\n${tail}`);
  }
  await writeFile(join(work, 'libs', COMPLETE_MARKER), `${new Date().toISOString()}\n`);
  try {
    await rename(work, target);
  } catch {
    // Another process finished first (or a stale incomplete copy is in the way): keep a complete one.
    if (!existsSync(join(libs, COMPLETE_MARKER))) {
      await rm(target, { recursive: true, force: true });
      await rename(work, target);
    } else {
      await rm(work, { recursive: true, force: true });
    }
  }
  logger.info({ libs }, `${set.title} jars ready`);
  return libs;
}
