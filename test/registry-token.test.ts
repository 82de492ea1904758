import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REGISTRY_CONTENT_TYPE } from '../src/registry/http-app.js';
import { registryClient, useRegistryToken } from '../src/registry/registry-client.js';
import { startRegistryProcess, stopRegistryProcess } from '../src/stack/registry-process.js';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { useTestContext } from './support/context.js';

/**
 * Issue 22: the bundled registry started as a process (what `kappa stack up` and `kappa up` do)
 * with a token: writes need it, reads stay open, and the token is in its environment, never on its
 * command line.
 */
const context = useTestContext('registry-token');
const TOKEN = 'registry-token-0123456789abcdef';
const stateDir = mkdtempSync(join(tmpdir(), 'kappa-registry-token-'));
afterAll(async () => {
  useRegistryToken('');
  await stopRegistryProcess(stateDir, 10_000);
});

describe('a registry process with a token', () => {
  it('refuses writes without it, takes them with it, and keeps it off its command line', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const { state } = await startRegistryProcess({
      stateDir,
      brokers: context.brokers,
      host: '127.0.0.1',
      port,
      topic: context.topic('_schemas'),
      replicationFactor: 1,
      startTimeoutMs: 90_000,
      token: TOKEN,
    });
    expect(readFileSync(`/proc/${state.pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
    const schema = JSON.stringify({ type: 'record', name: 'E', fields: [{ name: 'id', type: 'long' }] });
    const post = (headers: Record<string, string>) =>
      fetch(`${state.url}/subjects/t-value/versions`, {
        method: 'POST',
        headers: { 'content-type': REGISTRY_CONTENT_TYPE, ...headers },
        body: JSON.stringify({ schema }),
      });
    const refused = await post({});
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error_code: 40101 });
    expect((await post({ authorization: 'Bearer wrong-token-0123456789abcdef' })).status).toBe(401);
    expect((await fetch(`${state.url}/subjects`)).status).toBe(200);
    useRegistryToken(TOKEN);
    expect(await registryClient(state.url).register({ type: SchemaType.AVRO, schema }, { subject: 't-value' })).toEqual(
      {
        id: 1,
      },
    );
    // fetch drops a Host header it is given: node:http sends it as a rebinding page's browser would.
    const evil = await new Promise<number | undefined>((resolve, reject) => {
      request(`${state.url}/subjects`, { headers: { host: 'evil.example.com' } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
        .on('error', reject)
        .end();
    });
    expect(evil).toBe(421);
  }, 120_000);
});
