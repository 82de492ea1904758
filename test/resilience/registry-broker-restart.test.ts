import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { startBroker, stopBroker } from '../../src/stack/broker.js';
import { useTestContext } from '../support/context.js';
import { startTestRegistry } from '../support/registry.js';

const context = useTestContext('registry_restart');

/** A record schema with `fields` extra optional fields: each a backward-compatible next version. */
function schemaWith(fields: number): string {
  return JSON.stringify({
    type: 'record',
    name: 'Event',
    namespace: 'dev.kappa.test',
    fields: [
      { name: 'id', type: 'long' },
      ...Array.from({ length: fields }, (_, index) => ({ name: `f${index}`, type: ['null', 'string'], default: null })),
    ],
  });
}

/** Registers until it succeeds or `withinMs` passed: while the broker is coming back, refusals are fine. */
async function registerWithin(client: SchemaRegistry, schema: string, subject: string, withinMs: number) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await client.register({ type: SchemaType.AVRO, schema }, { subject });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(1_000);
    }
  }
}

/**
 * SPEC §3, "broker restart", for the schema registry: it applies its own writes by reading them back
 * from its log, so a log reader that stopped after the restart (a kafkajs consumer that crashed
 * without restarting, or stopped fetching — seen in the chaos suite) would refuse every write from
 * then on with "the schema log did not reach offset N". Restarts the run's broker: resilience
 * project, alone.
 */
describe('the schema registry across broker restarts', () => {
  it('registers and serves new versions after each restart', { timeout: 360_000 }, async () => {
    const restart = inject('kafkaRestart');
    const registry = await startTestRegistry(context);
    try {
      const client = new SchemaRegistry({ host: registry.url });
      const subject = `${context.topic('events')}-value`;
      const ids = [(await registerWithin(client, schemaWith(0), subject, 30_000)).id];
      for (let round = 1; round <= 3; round += 1) {
        await stopBroker({ stateDir: restart.stateDir, timeoutMs: 30_000 });
        await sleep(5_000);
        await startBroker({ ...restart, startTimeoutMs: 120_000, logger: createLogger('warn', 'registry-restart') });
        // The registry's own wait for its log is 30 s: two of them, then it must have recovered.
        ids.push((await registerWithin(client, schemaWith(round), subject, 75_000)).id);
      }
      expect(new Set(ids).size).toBe(4);
      for (const id of ids) await expect(client.getSchema(id)).resolves.toBeDefined();
      const latest = await client.getLatestSchemaId(subject);
      expect(latest).toBe(ids.at(-1));
    } finally {
      await registry.close();
    }
  });
});
