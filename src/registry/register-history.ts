import { COMPATIBILITY, SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { KappaError } from '../shared/errors.js';
import type { SchemaHistory } from './schema-history.js';

export interface RegisteredVersion {
  readonly version: number;
  readonly file: string;
  readonly id: number;
}

/**
 * Registers every version of a history under `subject`, oldest first (so the registry checks
 * each against the earlier ones), through the kafkajs registry client — which also sets the
 * subject's level on first registration and refuses a different one later. Idempotent.
 */
export async function registerHistory(
  registry: SchemaRegistry,
  history: SchemaHistory,
  subject: string,
  registryUrl: string,
): Promise<RegisteredVersion[]> {
  const registered: RegisteredVersion[] = [];
  for (const entry of history.versions) {
    try {
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: entry.schema },
        { subject, compatibility: COMPATIBILITY[history.level] },
      );
      registered.push({ version: entry.version, file: entry.file, id });
    } catch (error) {
      throw new KappaError(
        'KAPPA_SCHEMAS_REGISTER_FAILED',
        `registering ${entry.file} as ${subject} at ${registryUrl} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return registered;
}
