import { describe, expect, it } from 'vitest';
import { RegistryError } from './registry-errors.js';
import { MemorySchemaLog, RegistryService } from './registry-service.js';

const v1 = JSON.stringify({
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'hello', type: 'string' },
  ],
});
const v2 = JSON.stringify({
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'hello', type: 'string' },
    { name: 'event_ts', type: ['null', 'long'], default: null },
  ],
});
const broken = JSON.stringify({
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'hello', type: 'string' },
  ],
});

function service(log = new MemorySchemaLog()): RegistryService {
  const registry = new RegistryService(log, { timeoutMs: 2_000 });
  log.subscribe((offset, record) => registry.onRecord(offset, record));
  return registry;
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

describe('RegistryService (broker-free, on an in-memory log)', () => {
  it('gives ids from 1, the same id for the same schema in any subject and any spelling', async () => {
    const registry = service();
    expect(await registry.register('events-value', v1)).toBe(1);
    expect(await registry.register('events-value', v2)).toBe(2);
    expect(await registry.register('other-value', `  ${JSON.stringify(JSON.parse(v1), null, 2)}`)).toBe(1);
    expect(await registry.register('events-value', v1)).toBe(1);
    expect(await registry.versions('events-value')).toEqual([1, 2]);
    expect(await registry.versions('other-value')).toEqual([1]);
  });

  it('refuses an incompatible version with 409, naming version and field', async () => {
    const registry = service();
    await registry.register('events-value', v1);
    const error = await failure(registry.register('events-value', broken));
    expect(error.status).toBe(409);
    expect(error.errorCode).toBe(409);
    expect(error.message).toContain(
      'cannot read data written with version 1: field Event.id: cannot read long as string',
    );
    expect(await registry.versions('events-value')).toEqual([1]);
  });

  it('refuses invalid schemas with 42201', async () => {
    const registry = service();
    expect((await failure(registry.register('s', '{not json'))).errorCode).toBe(42201);
    expect((await failure(registry.register('s', '{"type":"record","name":"X"}'))).errorCode).toBe(42201);
  });

  it('looks schemas up by subject, version and id; misses carry Confluent codes', async () => {
    const registry = service();
    await registry.register('events-value', v1);
    expect(await registry.lookup('events-value', v1)).toMatchObject({ subject: 'events-value', id: 1, version: 1 });
    expect((await registry.version('events-value', 'latest')).id).toBe(1);
    expect(JSON.parse(await registry.schemaById(1))).toEqual(JSON.parse(v1));
    expect((await failure(registry.lookup('events-value', v2))).errorCode).toBe(40403);
    expect((await failure(registry.lookup('nope', v1))).errorCode).toBe(40401);
    expect((await failure(registry.version('events-value', 7))).errorCode).toBe(40402);
    expect((await failure(registry.schemaById(99))).errorCode).toBe(40403);
  });

  it('soft-deletes a subject: versions gone, ids still resolve, numbering continues', async () => {
    const registry = service();
    await registry.register('events-value', v1);
    await registry.register('events-value', v2);
    expect(await registry.deleteSubject('events-value')).toEqual([1, 2]);
    expect((await failure(registry.versions('events-value'))).errorCode).toBe(40401);
    expect(JSON.parse(await registry.schemaById(2))).toEqual(JSON.parse(v2));
    expect(registry.state.subjectNames()).toEqual([]);
    expect(registry.state.subjectNames('with-deleted')).toEqual(['events-value']);
    expect(await registry.register('events-value', broken)).toBe(3);
    expect(await registry.versions('events-value')).toEqual([3]);
  });

  it('applies the configured level: NONE accepts anything, the subject level wins over the global one', async () => {
    const registry = service();
    await registry.register('a', v1);
    await registry.setConfig(null, { compatibilityLevel: 'NONE' });
    expect(await registry.register('a', broken)).toBe(2);
    await registry.setConfig('b', { compatibilityLevel: 'FULL' });
    await registry.register('b', v1);
    expect(registry.state.effectiveConfig('b')).toBe('FULL');
    expect(registry.state.effectiveConfig('a')).toBe('NONE');
    await registry.setConfig('b', null);
    expect(registry.state.subjectConfig('b')).toBeUndefined();
  });

  it('checks compatibility without registering', async () => {
    const registry = service();
    await registry.register('events-value', v1);
    expect(await registry.checkCompatibility('events-value', 'latest', v2)).toEqual([]);
    expect(await registry.checkCompatibility('events-value', 1, broken)).toEqual([
      'cannot read data written with version 1: field Event.id: cannot read long as string',
    ]);
    expect(await registry.checkCompatibility('new-subject', 'latest', broken)).toEqual([]);
  });

  it('lets two instances on one log race and still agree on every id', async () => {
    const log = new MemorySchemaLog();
    const [a, b] = [service(log), service(log)];
    const schemas = Array.from({ length: 12 }, (_, index) =>
      JSON.stringify({ type: 'record', name: `R${index}`, fields: [{ name: 'x', type: 'int' }] }),
    );
    await a.setConfig(null, { compatibilityLevel: 'NONE' });
    const ids = await Promise.all(
      schemas.map((schema, index) => (index % 2 === 0 ? a : b).register(`s${index % 3}`, schema)),
    );
    expect(new Set(ids).size).toBe(schemas.length);
    await Promise.all([a.sync(), b.sync()]);
    for (const [index, schema] of schemas.entries()) {
      expect(await a.schemaById(ids[index] ?? 0)).toBe(await b.schemaById(ids[index] ?? 0));
      expect(JSON.parse(await a.schemaById(ids[index] ?? 0))).toEqual(JSON.parse(schema));
    }
    for (const subject of ['s0', 's1', 's2']) expect(await a.versions(subject)).toEqual(await b.versions(subject));
  });

  it('rebuilds the same state from the log alone (ids survive restarts)', async () => {
    const log = new MemorySchemaLog();
    const first = service(log);
    await first.register('events-value', v1);
    await first.register('events-value', v2);
    await first.deleteSubject('events-value');
    await first.register('events-value', v1);
    const restarted = service(log);
    await restarted.sync();
    expect(await restarted.schemaById(2)).toBe(await first.schemaById(2));
    expect(await restarted.versions('events-value')).toEqual([3]);
    expect(await restarted.register('events-value', v2)).toBe(2);
  });
});

describe('RegistryService: deletes, identity and an unreachable log', () => {
  it('soft-deletes one version, then permanently, with Confluent’s codes; ids and numbering survive', async () => {
    const registry = service();
    await registry.register('s', v1);
    await registry.register('s', v2);
    expect((await failure(registry.deleteVersion('s', 1, true))).errorCode).toBe(40407);
    expect(await registry.deleteVersion('s', 'latest')).toBe(2);
    expect((await failure(registry.deleteVersion('s', 2))).errorCode).toBe(40406);
    expect(await registry.versions('s')).toEqual([1]);
    expect(await registry.deleteVersion('s', 2, true)).toBe(2);
    expect(await registry.versions('s', 'with-deleted')).toEqual([1]);
    expect(JSON.parse(await registry.schemaById(2))).toEqual(JSON.parse(v2));
    expect((await failure(registry.deleteVersion('s', 7))).errorCode).toBe(40402);
    expect((await failure(registry.deleteVersion('nope', 1))).errorCode).toBe(40401);
    expect(await registry.register('s', v2)).toBe(2);
    expect(await registry.versions('s')).toEqual([1, 3]);
  });

  it('keeps the ids of schemas stored by an older kappa (sorted-key text) for every spelling of them', async () => {
    const log = new MemorySchemaLog();
    const legacy = '{"fields":[{"name":"a","type":"int"}],"name":"N","namespace":"com.x","type":"record"}';
    await log.append({ type: 'register', subject: 'old', version: 1, id: 1, schema: legacy, nonce: 'n1' });
    const registry = service(log);
    await registry.sync();
    const qualified = JSON.stringify({ type: 'record', name: 'com.x.N', fields: [{ name: 'a', type: 'int' }] });
    expect(await registry.register('old', qualified)).toBe(1);
    expect(await registry.register('new', qualified)).toBe(1);
    expect((await registry.lookup('old', qualified)).version).toBe(1);
    expect(await registry.versions('old')).toEqual([1]);
    expect(await registry.schemaById(1)).toBe(legacy);
  });

  it('answers reads from memory when the log hangs or refuses, and refuses writes with 50003', async () => {
    const memory = new MemorySchemaLog();
    let state: 'up' | 'hanging' | 'refusing' = 'up';
    const gate = () =>
      state === 'up'
        ? Promise.resolve()
        : state === 'hanging'
          ? new Promise<void>(() => undefined)
          : Promise.reject(new Error('ECONNREFUSED'));
    const registry = new RegistryService(
      {
        append: async (record) => (await gate(), memory.append(record)),
        endOffset: async () => (await gate(), memory.endOffset()),
      },
      { readCatchUpMs: 50 },
    );
    memory.subscribe((offset, record) => registry.onRecord(offset, record));
    await registry.register('s', v1);
    for (const next of ['hanging', 'refusing'] as const) {
      state = next;
      expect(await registry.versions('s')).toEqual([1]);
      expect((await failure(registry.schemaById(5))).errorCode).toBe(40403);
    }
    expect((await failure(registry.register('s', v2))).errorCode).toBe(50003);
    state = 'up';
    expect(await registry.register('s', v2)).toBe(2);
  });
});
