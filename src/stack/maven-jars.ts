import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KappaError, type ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { requireMaven } from './java.js';

/** In the libs folder once a fetch finished: the SHA-256 of each jar, checked before every use. */
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
  /** Repositories to search besides Maven Central (`file://…` in tests). */
  readonly repositories?: readonly { readonly id: string; readonly url: string }[];
}

export interface MavenFetchOptions {
  /** Arguments added to Maven's (tests: `-o`, to use only `file://` repositories). */
  readonly mavenArgs?: readonly string[];
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
    ...(set.repositories === undefined || set.repositories.length === 0
      ? []
      : [
          '  <repositories>',
          ...set.repositories.map(({ id, url }) => `    <repository><id>${id}</id><url>${url}</url></repository>`),
          '  </repositories>',
        ]),
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

async function runMaven(workDir: string, logFile: string, extraArgs: readonly string[]): Promise<number> {
  const log = await open(logFile, 'w');
  try {
    return await new Promise<number>((resolve, reject) => {
      // -C (--strict-checksums): a download whose checksum does not match fails the fetch; Maven's
      // default only warns, and the broker would then run on a corrupted jar.
      const child = spawn(
        'mvn',
        [
          '-B',
          '-q',
          '-C',
          ...extraArgs,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          '-DoutputDirectory=libs',
        ],
        { cwd: workDir, stdio: ['ignore', log.fd, log.fd] },
      );
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await log.close();
  }
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** `<sha-256>  <jar>` per jar of `libs`, sorted (the format of sha256sum). */
async function manifestOf(libs: string): Promise<string> {
  const jars = (await readdir(libs)).filter((name) => name.endsWith('.jar')).sort();
  const lines = await Promise.all(jars.map(async (jar) => `${await sha256(join(libs, jar))}  ${jar}`));
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * Whether the cached set is whole: its marker's manifest matches the jars (none changed, missing or
 * added). A marker written before kappa kept manifests (a timestamp) is trusted once and replaced
 * by the manifest of what is there.
 */
async function cachedSetIntact(libs: string): Promise<boolean> {
  const marker = join(libs, COMPLETE_MARKER);
  const recorded = await readFile(marker, 'utf8').catch(() => undefined);
  if (recorded === undefined) return false;
  const actual = await manifestOf(libs);
  if (!/^[0-9a-f]{64} {2}/.test(recorded)) {
    const temporary = `${marker}.${process.pid}`;
    await writeFile(temporary, actual);
    await rename(temporary, marker);
    return true;
  }
  return recorded === actual;
}

/**
 * Returns the directory holding the set's jars, fetching them from Maven Central the first time.
 * Safe against concurrent callers: each fetches into its own temporary folder and renames it into
 * place; a half-finished download never looks complete. Downloads are checked by Maven (`-C`);
 * the cached jars by their SHA-256 before each use: a changed or missing jar is fetched again.
 * (Maven does not check a jar again once in its local repository, ~/.m2: one corrupted there is
 * copied as it is — `mvn dependency:purge-local-repository` in the printed folder, or deleting the
 * artifact's folder in ~/.m2, makes the next fetch download it again.)
 */
export async function ensureMavenJars(
  cacheDir: string,
  set: MavenJarSet,
  logger: Logger,
  options: MavenFetchOptions = {},
): Promise<string> {
  const libs = mavenLibsDir(cacheDir, set);
  if (existsSync(join(libs, COMPLETE_MARKER))) {
    if (await cachedSetIntact(libs)) return libs;
    logger.warn({ jars: set.title, libs }, 'cached jars do not match their checksums: fetching them again');
    await rm(join(cacheDir, set.name), { recursive: true, force: true });
  }
  requireMaven();
  const target = join(cacheDir, set.name);
  const work = `${target}.fetch-${process.pid}-${Date.now()}`;
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'pom.xml'), renderPom(set));
  logger.info({ jars: set.title, cacheDir }, 'fetching jars from Maven Central (first run only)');
  const logFile = join(work, 'maven.log');
  const code = await runMaven(work, logFile, options.mavenArgs ?? []);
  if (code !== 0 || !existsSync(join(work, 'libs', set.requiredJar))) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    await rm(work, { recursive: true, force: true });
    throw new KappaError(set.failure, `fetching ${set.title} with Maven failed (exit ${code}):\n${tail}`);
  }
  await writeFile(join(work, 'libs', COMPLETE_MARKER), await manifestOf(join(work, 'libs')));
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
