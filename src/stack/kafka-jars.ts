import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KappaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { requireMaven } from './java.js';

/** slf4j binding matching the slf4j-api 1.7.36 that Kafka 3.9 depends on; without one the broker logs nothing. */
const SLF4J_BINDING_VERSION = '1.7.36';
const COMPLETE_MARKER = '.complete';

/** The pom whose runtime dependencies are the broker (kafka_2.13), the perf tools and a log binding. */
export function kafkaPom(version: string): string {
  const dependency = (group: string, artifact: string, v: string) =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${v}</version></dependency>`;
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>dev.kappa.local</groupId>',
    `  <artifactId>kafka-broker-${version}</artifactId>`,
    '  <version>1</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dependency('org.apache.kafka', 'kafka_2.13', version),
    dependency('org.apache.kafka', 'kafka-tools', version),
    dependency('org.slf4j', 'slf4j-reload4j', SLF4J_BINDING_VERSION),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

export function kafkaLibsDir(cacheDir: string, version: string): string {
  return join(cacheDir, `kafka-${version}`, 'libs');
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
 * Returns the directory holding the Apache Kafka jars, fetching them from Maven Central the first
 * time. Safe against concurrent callers: each fetches into its own temporary folder and renames it
 * into place; a half-finished download never looks complete.
 */
export async function ensureKafkaJars(cacheDir: string, version: string, logger: Logger): Promise<string> {
  const libs = kafkaLibsDir(cacheDir, version);
  if (existsSync(join(libs, COMPLETE_MARKER))) return libs;
  requireMaven();
  const target = join(cacheDir, `kafka-${version}`);
  const work = `${target}.fetch-${process.pid}-${Date.now()}`;
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'pom.xml'), kafkaPom(version));
  logger.info({ version, cacheDir }, 'fetching Apache Kafka jars from Maven Central (first run only)');
  const logFile = join(work, 'maven.log');
  const code = await runMaven(work, logFile);
  const broker = join(work, 'libs', `kafka_2.13-${version}.jar`);
  if (code !== 0 || !existsSync(broker)) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    await rm(work, { recursive: true, force: true });
    throw new KappaError('KAPPA_KAFKA_FETCH_FAILED', `fetching Apache Kafka ${version} with Maven failed (exit ${code}):\n${tail}`);
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
  logger.info({ libs }, 'Apache Kafka jars ready');
  return libs;
}
