import { SchemaType } from '@kafkajs/confluent-schema-registry';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRegistryApp } from './http-app.js';
import { registryClient, useRegistryToken } from './registry-client.js';
import { MemorySchemaLog, RegistryService } from './registry-service.js';

const TOKEN = 'registry-token-0123456789';
const schema = JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'long' }] });
let app: FastifyInstance | undefined;

async function listening(): Promise<string> {
  const log = new MemorySchemaLog();
  const service = new RegistryService(log, { timeoutMs: 2_000 });
  log.subscribe((offset, record) => service.onRecord(offset, record));
  app = buildRegistryApp({ service, writeToken: TOKEN });
  return app.listen({ host: '127.0.0.1', port: 0 });
}

afterEach(async () => {
  useRegistryToken('');
  await app?.close();
});

describe("kappa's registry client", () => {
  it('sends the registry token with its writes once it is set', async () => {
    const url = await listening();
    const register = (subject: string) => registryClient(url).register({ type: SchemaType.AVRO, schema }, { subject });
    await expect(register('without-value')).rejects.toThrow(/401|Bearer/);
    useRegistryToken(TOKEN);
    await expect(register('with-value')).resolves.toEqual({ id: 1 });
  });
});
