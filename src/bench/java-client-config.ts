/**
 * The bench's TLS / SASL settings (src/kafka/security.ts, what every kappa client reads) as a Java
 * client properties file, so Kafka's own tools — the baselines — connect the way kappa's clients do.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaSecurity } from '../kafka/security.js';

const JAVA_MECHANISM = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** A `java.util.Properties` value: backslashes, line breaks and a leading space escaped. */
function propertyValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/^ /, '\\ ');
}

/** A JAAS quoted string (StreamTokenizer rules: backslash escapes). */
const jaasQuoted = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The client properties for `security` (empty for plaintext): `security.protocol`, PEM trust and key
 * material inline (`ssl.truststore.type=PEM`, KIP-651), the SASL mechanism and its JAAS line.
 */
export function javaClientProperties(security: KafkaSecurity | undefined): string {
  if (security === undefined) return '';
  const { ssl, sasl } = security;
  const entries: [string, string][] = [
    ['security.protocol', `${sasl === undefined ? '' : 'SASL_'}${ssl === undefined ? 'PLAINTEXT' : 'SSL'}`],
  ];
  if (ssl !== undefined && ssl !== true) {
    if (ssl.ca !== undefined) entries.push(['ssl.truststore.type', 'PEM'], ['ssl.truststore.certificates', ssl.ca]);
    if (ssl.cert !== undefined && ssl.key !== undefined)
      entries.push(
        ['ssl.keystore.type', 'PEM'],
        ['ssl.keystore.certificate.chain', ssl.cert],
        ['ssl.keystore.key', ssl.key],
      );
  }
  if (sasl !== undefined) {
    const module =
      sasl.mechanism === 'plain'
        ? 'org.apache.kafka.common.security.plain.PlainLoginModule'
        : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    entries.push(
      ['sasl.mechanism', JAVA_MECHANISM[sasl.mechanism]],
      [
        'sasl.jaas.config',
        `${module} required username=${jaasQuoted(sasl.username)} password=${jaasQuoted(sasl.password)};`,
      ],
    );
  }
  return entries.map(([key, value]) => `${key}=${propertyValue(value)}\n`).join('');
}

/** Writes the properties to a file only this user can read (it may hold a password); its path. */
export async function writeJavaClientProperties(security: KafkaSecurity | undefined): Promise<string> {
  const file = join(tmpdir(), `kappa-bench-client-${process.pid}.properties`);
  await writeFile(file, javaClientProperties(security), { mode: 0o600 });
  return file;
}
