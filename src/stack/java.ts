import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KappaError } from '../shared/errors.js';

export const MIN_JAVA_MAJOR = 17;

/** `java` from JAVA_HOME when set (the JVM convention), otherwise from PATH. */
export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['JAVA_HOME'];
  return home !== undefined && home !== '' ? join(home, 'bin', 'java') : 'java';
}

/** Major version from `java -version` output: `openjdk version "17.0.15"` → 17, `"1.8.0_392"` → 8. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** Checks that a Java 17+ runtime is there and returns the command that runs it. */
export function requireJava(env: NodeJS.ProcessEnv = process.env): string {
  const command = javaCommand(env);
  const result = spawnSync(command, ['-version'], { encoding: 'utf8', env });
  if (result.error !== undefined || result.status !== 0) {
    throw new KappaError(
      'KAPPA_JAVA_MISSING',
      `Java ${MIN_JAVA_MAJOR}+ is needed to run the local Kafka broker, but \`${command} -version\` failed` +
        ` (${result.error?.message ?? `exit ${String(result.status)}`}). Install a JDK (e.g. \`apt install openjdk-17-jre-headless\`),` +
        ' set JAVA_HOME, or point KAPPA_KAFKA_BROKERS at an existing Kafka cluster.',
      { cause: result.error },
    );
  }
  const major = parseJavaMajor(`${result.stderr}${result.stdout}`);
  if (major === undefined || major < MIN_JAVA_MAJOR) {
    throw new KappaError(
      'KAPPA_JAVA_TOO_OLD',
      `Java ${MIN_JAVA_MAJOR}+ is needed to run the local Kafka broker; \`${command} -version\` reports ${major ?? 'an unknown version'}. Install a newer JDK or set JAVA_HOME.`,
    );
  }
  return command;
}

/** Checks that Maven is on PATH; it is only needed the first time, to fetch the Kafka jars. */
export function requireMaven(env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8', env });
  if (result.error !== undefined || result.status !== 0) {
    throw new KappaError(
      'KAPPA_MAVEN_MISSING',
      'Apache Maven is needed once, to fetch the Apache Kafka jars from Maven Central, but `mvn -v` failed' +
        ` (${result.error?.message ?? `exit ${String(result.status)}`}). Install it (e.g. \`apt install maven\`)` +
        ' or point KAPPA_KAFKA_BROKERS at an existing Kafka cluster.',
      { cause: result.error },
    );
  }
  return 'mvn';
}
