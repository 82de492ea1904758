import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMavenJars, mavenLibsDir, type MavenJarSet } from '../src/stack/maven-jars.js';
import { silentLogger } from '../src/shared/logger.js';

/**
 * Maven fetching from a file:// repository built here, offline (`-o` with file:// allowed), so the
 * test needs no network. Maven keeps what it downloads in the machine's local repository (~/.m2):
 * the artifacts have a group of their own, removed afterwards. The jar cache is a temporary folder,
 * never the shared ~/.cache/kappa.
 */
const GROUP = `dev.kappa.test.r${randomBytes(4).toString('hex')}`;
const OFFLINE = { mavenArgs: ['-o', '-Daether.offline.protocols=file'] };
const JAR = Buffer.from(
  // An empty zip (end-of-central-directory record only): a valid jar with no entries.
  '504b0506000000000000000000000000000000000000',
  'hex',
);

let root = '';
let repository = '';

async function publish(artifact: string, jarSha1: string): Promise<void> {
  const folder = join(repository, ...GROUP.split('.'), artifact, '1');
  await mkdir(folder, { recursive: true });
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>${GROUP}</groupId><artifactId>${artifact}</artifactId><version>1</version></project>\n`;
  const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex');
  await writeFile(join(folder, `${artifact}-1.pom`), pom);
  await writeFile(join(folder, `${artifact}-1.pom.sha1`), sha1(pom));
  await writeFile(join(folder, `${artifact}-1.jar`), JAR);
  await writeFile(join(folder, `${artifact}-1.jar.sha1`), jarSha1 === 'right' ? sha1(JAR) : jarSha1);
}

function jarSet(artifact: string): MavenJarSet {
  return {
    name: `${artifact}-1`,
    title: `test artifact ${artifact}`,
    dependencies: [[GROUP, artifact, '1']],
    requiredJar: `${artifact}-1.jar`,
    failure: 'KAPPA_KAFKA_FETCH_FAILED',
    repositories: [{ id: 'kappa-test', url: `file://${repository}` }],
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kappa-maven-'));
  repository = join(root, 'repository');
  await publish('good', 'right');
  await publish('corrupt', '0000000000000000000000000000000000000000');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  const m2 = join(homedir(), '.m2', 'repository');
  await rm(join(m2, ...GROUP.split('.')), { recursive: true, force: true });
  // The groups above it, when no other run's artifacts are in them (rmdir refuses a folder that is not empty).
  for (const folder of ['dev/kappa/test', 'dev/kappa']) await rmdir(join(m2, folder)).catch(() => undefined);
});

describe('ensureMavenJars', () => {
  it('refuses a download whose checksum does not match (mvn -C): nothing is cached', { timeout: 240_000 }, async () => {
    const cache = join(root, 'cache-corrupt');
    const set = jarSet('corrupt');
    const failure = await ensureMavenJars(cache, set, silentLogger, OFFLINE).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'KAPPA_KAFKA_FETCH_FAILED' });
    expect(String((failure as Error).message)).toMatch(/checksum/i);
    expect(existsSync(mavenLibsDir(cache, set))).toBe(false);
  });

  it('fetches a cached set again when one of its jars changed, instead of using it', { timeout: 240_000 }, async () => {
    const cache = join(root, 'cache-good');
    const set = jarSet('good');
    const libs = await ensureMavenJars(cache, set, silentLogger, OFFLINE);
    const jar = join(libs, 'good-1.jar');
    expect(await readFile(jar)).toEqual(JAR);
    await writeFile(jar, 'not a jar any more');
    expect(await ensureMavenJars(cache, set, silentLogger, OFFLINE)).toBe(libs);
    expect(await readFile(jar)).toEqual(JAR);
  });

  it('trusts a set cached before kappa kept checksums once, recording them', async () => {
    const cache = join(root, 'cache-legacy');
    const set = jarSet('legacy');
    const libs = mavenLibsDir(cache, set);
    await mkdir(libs, { recursive: true });
    await writeFile(join(libs, 'legacy-1.jar'), JAR);
    await writeFile(join(libs, '.complete'), '2026-12-01T00:00:00.000Z\n');
    expect(await ensureMavenJars(cache, set, silentLogger, OFFLINE)).toBe(libs);
    expect(await readFile(join(libs, '.complete'), 'utf8')).toBe(
      `${createHash('sha256').update(JAR).digest('hex')}  legacy-1.jar\n`,
    );
  });
});
