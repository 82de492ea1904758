import { readFile } from 'node:fs/promises';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { Config } from '../config/settings.js';
import { KappaError } from '../shared/errors.js';

/** The settings every Kafka client reads (TLS and SASL): added to each command that takes --brokers. */
export const KAFKA_SECURITY_SETTINGS = [
  'kafkaSsl',
  'kafkaSslCa',
  'kafkaSslCert',
  'kafkaSslKey',
  'kafkaSaslMechanism',
  'kafkaSaslUsername',
  'kafkaSaslPassword',
  'kafkaSaslPasswordFile',
] as const satisfies readonly (keyof Config)[];

export type KafkaSecuritySettings = Pick<Config, (typeof KAFKA_SECURITY_SETTINGS)[number]>;

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** How kappa's clients authenticate and encrypt: the file contents, ready for kafkajs. */
export interface KafkaSecurity {
  /** TLS: `true` trusts the system CAs; otherwise PEM texts. */
  readonly ssl?: true | { readonly ca?: string; readonly cert?: string; readonly key?: string };
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
}

function invalid(message: string): KappaError {
  return new KappaError('KAPPA_KAFKA_SECURITY_INVALID', message);
}

async function readPem(file: string, setting: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw invalid(`cannot read ${setting} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/**
 * Reads the TLS and SASL settings into a KafkaSecurity (undefined: plaintext, the local broker).
 * The password comes from KAPPA_KAFKA_SASL_PASSWORD or the first line of the password file — never
 * from a flag — and no message here ever includes it.
 */
export async function loadKafkaSecurity(settings: KafkaSecuritySettings): Promise<KafkaSecurity | undefined> {
  const { kafkaSslCa: ca, kafkaSslCert: cert, kafkaSslKey: key } = settings;
  if ((cert === '') !== (key === '')) {
    throw invalid('KAPPA_KAFKA_SSL_CERT and KAPPA_KAFKA_SSL_KEY go together: set both for mutual TLS, or neither');
  }
  const tlsFiles = ca !== '' || cert !== '';
  if (settings.kafkaSsl === 'off' && tlsFiles) {
    throw invalid('KAPPA_KAFKA_SSL=off but a CA or client certificate is set; remove them or use KAPPA_KAFKA_SSL=on');
  }
  const useTls = settings.kafkaSsl === 'on' || (settings.kafkaSsl === 'auto' && tlsFiles);
  let ssl: KafkaSecurity['ssl'];
  if (useTls) {
    ssl = tlsFiles
      ? {
          ...(ca === '' ? {} : { ca: await readPem(ca, 'KAPPA_KAFKA_SSL_CA') }),
          ...(cert === '' ? {} : { cert: await readPem(cert, 'KAPPA_KAFKA_SSL_CERT') }),
          ...(key === '' ? {} : { key: await readPem(key, 'KAPPA_KAFKA_SSL_KEY') }),
        }
      : true;
  }
  const sasl = await loadSasl(settings);
  if (ssl === undefined && sasl === undefined) return undefined;
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) };
}

async function loadSasl(settings: KafkaSecuritySettings): Promise<KafkaSecurity['sasl']> {
  const mechanism = settings.kafkaSaslMechanism;
  const { kafkaSaslUsername: username, kafkaSaslPassword: inline, kafkaSaslPasswordFile: file } = settings;
  if (mechanism === 'none') {
    if (username !== '' || inline !== '' || file !== '')
      throw invalid(
        'SASL credentials are set but KAPPA_KAFKA_SASL_MECHANISM is none; set plain, scram-sha-256 or scram-sha-512',
      );
    return undefined;
  }
  if (username === '') throw invalid(`KAPPA_KAFKA_SASL_MECHANISM=${mechanism} needs KAPPA_KAFKA_SASL_USERNAME`);
  if (inline !== '' && file !== '')
    throw invalid('set KAPPA_KAFKA_SASL_PASSWORD or KAPPA_KAFKA_SASL_PASSWORD_FILE, not both');
  const password =
    file === '' ? inline : ((await readPem(file, 'KAPPA_KAFKA_SASL_PASSWORD_FILE')).split(/\r?\n/)[0] ?? '');
  if (password === '')
    throw invalid(
      `KAPPA_KAFKA_SASL_MECHANISM=${mechanism} needs KAPPA_KAFKA_SASL_PASSWORD or KAPPA_KAFKA_SASL_PASSWORD_FILE`,
    );
  return { mechanism, username, password };
}

/** The kafkajs options for a KafkaSecurity. */
export function kafkajsSecurity(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (security === undefined) return {};
  const { ssl, sasl } = security;
  return {
    ...(ssl === undefined ? {} : { ssl: ssl === true ? true : { ...ssl } }),
    ...(sasl === undefined ? {} : { sasl: { ...sasl } as SASLOptions }),
  };
}

/** What a log line may say about the security in use: never the password or key material. */
export function describeSecurity(security: KafkaSecurity | undefined): Record<string, string | boolean> {
  return {
    tls: security?.ssl !== undefined,
    sasl: security?.sasl?.mechanism ?? 'none',
    ...(security?.sasl === undefined ? {} : { user: security.sasl.username }),
  };
}
