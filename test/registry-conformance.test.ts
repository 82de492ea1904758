import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegistryApp, REGISTRY_CONTENT_TYPE } from '../src/registry/http-app.js';
import type { LogRecord } from '../src/registry/log-records.js';
import { MemorySchemaLog, RegistryService, type SchemaLog } from '../src/registry/registry-service.js';
import type { RunningRegistry } from '../src/registry/server.js';
import { useTestContext } from './support/context.js';
import { startTestRegistry } from './support/registry.js';

/**
 * Conformance with Confluent Schema Registry (issue 18): every place a client or tool could tell
 * our registry from Confluent's, driven over HTTP and, where a client calls it, through
 * `@confluentinc/schemaregistry`. Confluent's behaviour is taken from its REST API reference and
 * source (SubjectVersionsResource, CompatibilityResource, …) and Avro's SchemaCompatibility.
 */
const context = useTestContext('registry-conformance');
let registry: RunningRegistry;
let client: SchemaRegistryClient;

beforeAll(async () => {
  registry = await startTestRegistry(context, context.topic('_schemas'));
  client = new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });
});
afterAll(() => registry.close());

let subjects = 0;
/** A fresh subject per use, so tests never see each other's versions. */
const fresh = (label: string) => `${context.prefix}-${label}-${(subjects += 1)}`;

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  readonly body: unknown;
}

async function http(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { 'content-type': REGISTRY_CONTENT_TYPE },
  base = registry.url,
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body: parsed };
}

const enc = encodeURIComponent;

async function rejection(promise: Promise<unknown>): Promise<{ status?: number; errorCode?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { status?: number; errorCode?: number };
  }
  throw new Error('expected the client to fail');
}

const record = (name: string, fields: readonly object[], extra: object = {}) =>
  JSON.stringify({ type: 'record', name, ...extra, fields });
const v1 = record('Event', [{ name: 'id', type: 'long' }], { namespace: 'dev.kappa' });
const v2 = record(
  'Event',
  [
    { name: 'id', type: 'long' },
    { name: 'tag', type: ['null', 'string'], default: null },
  ],
  { namespace: 'dev.kappa' },
);

/** A schema with one more optional field: a BACKWARD-compatible next version. */
function withTag(schema: string): string {
  const parsed = JSON.parse(schema) as { fields: object[] };
  return JSON.stringify({
    ...parsed,
    fields: [...parsed.fields, { name: 'tag', type: ['null', 'string'], default: null }],
  });
}

async function register(subject: string, schema: string): Promise<number> {
  const answer = await http('POST', `/subjects/${enc(subject)}/versions`, { schema });
  expect(answer.status, answer.text).toBe(200);
  return (answer.body as { id: number }).id;
}

describe('breaks a client today', () => {
  it('accepts subjects longer than 100 characters (RecordNameStrategy with a long namespace)', async () => {
    const subject = `${fresh('long')}-com.example.platform.ingestion.telemetry.devices.firmware.${'x'.repeat(120)}.Event`;
    expect(subject.length).toBeGreaterThan(200);
    const id = await register(subject, v1);
    expect((await http('GET', `/subjects/${enc(subject)}/versions/latest`)).body).toMatchObject({ subject, id });
    expect(await client.register(subject, { schemaType: 'AVRO', schema: v2 })).toBeGreaterThan(id);
    expect((await client.getLatestSchemaMetadata(subject)).version).toBe(2);
    expect(await client.getId(subject, { schemaType: 'AVRO', schema: v1 })).toBe(id);
  });

  it('deletes one version, softly and then permanently, keeping its id resolvable', async () => {
    const subject = fresh('delete-version');
    const id1 = await register(subject, v1);
    await register(subject, v2);
    expect(await http('DELETE', `/subjects/${subject}/versions/1`)).toMatchObject({ status: 200, body: 1 });
    expect((await http('GET', `/subjects/${subject}/versions`)).body).toEqual([2]);
    expect((await http('GET', `/subjects/${subject}/versions?deleted=true`)).body).toEqual([1, 2]);
    expect((await http('DELETE', `/subjects/${subject}/versions/1`)).body).toMatchObject({ error_code: 40406 });
    expect((await http('DELETE', `/subjects/${subject}/versions/2?permanent=true`)).body).toMatchObject({
      error_code: 40407,
    });
    expect((await http('DELETE', `/subjects/${subject}/versions/9`)).body).toMatchObject({ error_code: 40402 });
    expect((await http('DELETE', `/subjects/${fresh('none')}/versions/1`)).body).toMatchObject({ error_code: 40401 });
    const other = fresh('delete-subject');
    await register(other, v1);
    await register(other, v2);
    await http('DELETE', `/subjects/${other}/versions/1`);
    // A soft subject delete answers the versions it deleted: the live ones.
    expect((await http('DELETE', `/subjects/${other}`)).body).toEqual([2]);
    expect((await http('DELETE', `/subjects/${other}?permanent=true`)).body).toEqual([1, 2]);
    expect(await http('DELETE', `/subjects/${subject}/versions/1?permanent=true`)).toMatchObject({
      status: 200,
      body: 1,
    });
    expect((await http('GET', `/subjects/${subject}/versions?deleted=true`)).body).toEqual([2]);
    expect((await http('GET', `/schemas/ids/${id1}`)).status).toBe(200);
    // Through the client: soft, then permanent, of the latest version.
    expect(await client.deleteSubjectVersion(subject, 2, false)).toBe(2);
    expect(await client.deleteSubjectVersion(subject, 2, true)).toBe(2);
    expect((await http('GET', `/subjects/${subject}/versions?deleted=true`)).body).toMatchObject({ error_code: 40401 });
    // Version numbers are never reused, not even after a permanent delete.
    await register(subject, v1);
    expect((await http('GET', `/subjects/${subject}/versions`)).body).toEqual([3]);
  });

  it('answers GET /subjects/{s}/metadata as Confluent does for schemas without metadata', async () => {
    const subject = fresh('metadata');
    await register(subject, v1);
    expect(await http('GET', `/subjects/${subject}/metadata?key=owner&value=team`)).toMatchObject({
      status: 404,
      body: { error_code: 40403 },
    });
    expect((await http('GET', `/subjects/${fresh('none')}/metadata`)).body).toMatchObject({ error_code: 40401 });
    expect(await rejection(client.getLatestWithMetadata(subject, { owner: 'team' }))).toMatchObject({
      status: 404,
      errorCode: 40403,
    });
  });

  it('takes PUT /config/{s} with only normalize, and returns it', async () => {
    const subject = fresh('normalize');
    expect(await http('PUT', `/config/${subject}`, { normalize: true })).toMatchObject({
      status: 200,
      body: { normalize: true },
    });
    expect((await http('GET', `/config/${subject}`)).body).toEqual({ normalize: true });
    expect(await http('PUT', `/config/${subject}`, { compatibility: 'FULL' })).toMatchObject({
      status: 200,
      body: { compatibility: 'FULL' },
    });
    expect((await http('GET', `/config/${subject}`)).body).toEqual({ compatibilityLevel: 'FULL', normalize: true });
    const other = fresh('normalize-client');
    expect(await client.updateConfig(other, { normalize: true })).toMatchObject({ normalize: true });
    expect(await client.getConfig(other)).toMatchObject({ normalize: true });
  });

  it('reads "schemaType": null and "references": null as AVRO and none', async () => {
    const subject = fresh('nulls');
    const answer = await http('POST', `/subjects/${subject}/versions`, {
      schema: v1,
      schemaType: null,
      references: null,
    });
    expect(answer.status, answer.text).toBe(200);
    expect(
      (await http('POST', `/subjects/${subject}`, { schema: v1, schemaType: null, references: null })).status,
    ).toBe(200);
  });

  it('takes a DELETE with Content-Type: application/json and an empty body', async () => {
    const subject = fresh('delete-json');
    await register(subject, v1);
    expect(
      await http('DELETE', `/subjects/${subject}`, undefined, { 'content-type': 'application/json' }),
    ).toMatchObject({ status: 200, body: [1] });
  });

  it('serves the read endpoints tools call, and refuses the rest in Confluent’s error shape', async () => {
    const subject = fresh('reads');
    const own = record(`Reads${subjects}`, [{ name: 'id', type: 'long' }]);
    const id = await register(subject, own);
    await register(subject, withTag(own));
    expect((await http('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    expect((await http('GET', `/mode/${subject}`)).body).toMatchObject({ error_code: 40409 });
    expect((await http('GET', `/mode/${subject}?defaultToGlobal=true`)).body).toEqual({ mode: 'READWRITE' });
    expect(await http('PUT', '/mode', { mode: 'IMPORT' })).toMatchObject({ status: 422, body: { error_code: 42205 } });
    expect(await http('PUT', '/mode', { mode: 'SIDEWAYS' })).toMatchObject({
      status: 422,
      body: { error_code: 42204 },
    });
    expect((await http('GET', '/contexts')).body).toEqual(['.']);
    expect((await http('GET', `/schemas/ids/${id}/subjects`)).body).toEqual([subject]);
    const raw = await http('GET', `/schemas/ids/${id}/schema`);
    expect(raw.status).toBe(200);
    expect(JSON.parse(raw.text)).toEqual(JSON.parse(own));
    const all = (await http('GET', `/schemas?subjectPrefix=${subject}`)).body as { version: number }[];
    expect(all.map((entry) => entry.version)).toEqual([1, 2]);
    expect((await http('GET', `/schemas?subjectPrefix=${subject}&latestOnly=true`)).body).toMatchObject([
      { subject, version: 2 },
    ]);
    expect((await http('GET', `/subjects/${subject}/versions/1/referencedby`)).body).toEqual([]);
    const identity = (await http('GET', '/v1/metadata/id')).body as { scope: { clusters: Record<string, string> } };
    expect(identity.scope.clusters['kafka-cluster']).toMatch(/\S/);
    expect(identity.scope.clusters['schema-registry-cluster']).toBe('schema-registry');
    // POST /compatibility/subjects/{s}/versions checks as registering would.
    expect((await http('POST', `/compatibility/subjects/${subject}/versions`, { schema: withTag(own) })).body).toEqual({
      is_compatible: true,
    });
    // DELETE /config reverts the global level to BACKWARD and answers the old one.
    await http('PUT', '/config', { compatibility: 'FULL' });
    expect((await http('DELETE', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await http('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await client.getDefaultCompatibility()).toBe('BACKWARD');
    expect(await http('DELETE', `/config/${fresh('no-config')}`)).toMatchObject({
      status: 404,
      body: { error_code: 40401 },
    });
    expect(await http('POST', '/unknown/route', {})).toMatchObject({ status: 404, body: { error_code: 404 } });
  });
});

describe('misleading', () => {
  it('a record that changes only its namespace (nested records too) is compatible', async () => {
    const subject = fresh('namespace');
    const place = (namespace: string) => ({
      type: 'record',
      name: 'Place',
      namespace,
      fields: [{ name: 'city', type: 'string' }],
    });
    const event = (namespace: string) =>
      record(
        'Event',
        [
          { name: 'id', type: 'long' },
          { name: 'where', type: place(`${namespace}.geo`) },
        ],
        {
          namespace,
        },
      );
    await register(subject, event('com.old'));
    await http('PUT', `/config/${subject}`, { compatibility: 'FULL_TRANSITIVE' });
    expect(await client.register(subject, { schemaType: 'AVRO', schema: event('com.new') })).toBeGreaterThan(0);
    expect((await http('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
    const renamed = record('Renamed', [{ name: 'id', type: 'long' }]);
    expect((await http('POST', `/subjects/${subject}/versions`, { schema: renamed })).status).toBe(409);
  });

  it('deduplicates by Avro’s canonical form: a qualified name and a namespace are one schema', async () => {
    const subject = fresh('canonical');
    const qualified = record('com.x.N', [{ name: 'a', type: 'int' }]);
    const spaced = record('N', [{ name: 'a', type: { type: 'int' } }], { namespace: 'com.x' });
    const id = await register(subject, qualified);
    expect(await register(subject, spaced)).toBe(id);
    const normalized = await http('POST', `/subjects/${subject}/versions?normalize=true`, { schema: spaced });
    expect(normalized.body).toEqual({ id });
    expect((await http('GET', `/subjects/${subject}/versions`)).body).toEqual([1]);
    expect(await client.getId(subject, { schemaType: 'AVRO', schema: spaced })).toBe(id);
    expect(await client.register(fresh('canonical-other'), { schemaType: 'AVRO', schema: spaced })).toBe(id);
  });

  it('checks /versions/latest against the latest only, refuses invalid schemas, and explains with verbose', async () => {
    const subject = fresh('compat');
    await http('PUT', `/config/${subject}`, { compatibility: 'BACKWARD_TRANSITIVE' });
    // Version 2 (registered under NONE) changed `id` to a string: a reader with a string `id`
    // reads version 2's data, not version 1's.
    await register(subject, record('Event', [{ name: 'id', type: 'long' }]));
    await http('PUT', `/config/${subject}`, { compatibility: 'NONE' });
    await register(subject, record('Event', [{ name: 'id', type: 'string' }]));
    await http('PUT', `/config/${subject}`, { compatibility: 'BACKWARD_TRANSITIVE' });
    const candidate = record('Event', [
      { name: 'id', type: 'string' },
      { name: 'tag', type: ['null', 'string'], default: null },
    ]);
    expect(
      (await http('POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: candidate })).body,
    ).toEqual({ is_compatible: true });
    expect(await client.testSubjectCompatibility(subject, { schemaType: 'AVRO', schema: candidate })).toBe(true);
    expect((await http('POST', `/compatibility/subjects/${subject}/versions`, { schema: candidate })).body).toEqual({
      is_compatible: false,
    });
    expect(
      await http('POST', `/compatibility/subjects/${fresh('missing')}/versions/latest`, { schema: '{"type":"nope"}' }),
    ).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const verbose = await http('POST', `/compatibility/subjects/${subject}/versions/latest?verbose=true`, {
      schema: '{"type":"nope"}',
    });
    expect(verbose.status).toBe(200);
    expect(verbose.body).toMatchObject({ is_compatible: false, messages: [expect.stringContaining('Invalid schema')] });
  });

  it('honours subjectPrefix, deletedOnly, deleted=true on ids, case-insensitive latest and TRUE', async () => {
    const prefix = fresh('params');
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];
    const own = record(`Params${subjects}`, [{ name: 'id', type: 'long' }]);
    const id = await register(a, own);
    await register(b, own);
    await register(b, withTag(own));
    expect((await http('GET', `/subjects?subjectPrefix=${prefix}`)).body).toEqual([a, b]);
    expect((await http('GET', `/subjects?subjectPrefix=${prefix}&offset=1&limit=1`)).body).toEqual([b]);
    expect((await http('GET', `/subjects/${b}/versions?limit=1`)).body).toEqual([1]);
    await http('DELETE', `/subjects/${a}`);
    await http('DELETE', `/subjects/${b}/versions/1`);
    expect((await http('GET', `/subjects?subjectPrefix=${prefix}&deletedOnly=true`)).body).toEqual([a]);
    expect((await http('GET', `/subjects?subjectPrefix=${prefix}&deleted=TRUE`)).body).toEqual([a, b]);
    expect((await http('GET', `/subjects/${b}/versions?deletedOnly=true`)).body).toEqual([1]);
    expect((await http('GET', `/schemas/ids/${id}/versions`)).body).toEqual([]);
    expect((await http('GET', `/schemas/ids/${id}/versions?deleted=true`)).body).toEqual([
      { subject: a, version: 1 },
      { subject: b, version: 1 },
    ]);
    expect((await http('GET', `/subjects/${b}/versions/LATEST`)).body).toMatchObject({ version: 2 });
    expect((await http('GET', `/subjects/${b}/versions/Latest/schema`)).status).toBe(200);
    expect((await http('GET', `/subjects/${b}/versions/1?deleted=TRUE`)).body).toMatchObject({ version: 1 });
  });

  it('answers malformed JSON, repeated deletes, missing versions, wrong methods and content types like Confluent', async () => {
    const subject = fresh('details');
    expect(await http('POST', `/subjects/${subject}/versions`, '{oops')).toMatchObject({
      status: 400,
      body: { error_code: 400 },
    });
    await register(subject, v1);
    await http('DELETE', `/subjects/${subject}`);
    expect(await http('DELETE', `/subjects/${subject}`)).toMatchObject({ status: 404, body: { error_code: 40404 } });
    expect(await rejection(client.deleteSubject(subject))).toMatchObject({ status: 404, errorCode: 40404 });
    expect(await http('POST', `/compatibility/subjects/${fresh('missing')}/versions/1`, { schema: v1 })).toMatchObject({
      status: 404,
      body: { error_code: 40402 },
    });
    expect(await http('PUT', `/subjects/${subject}/versions`, { schema: v1 })).toMatchObject({
      status: 405,
      body: { error_code: 405 },
    });
    const json = await http('GET', '/config', undefined, { accept: 'application/json' });
    expect(json.type).toMatch(/^application\/json/);
    expect((await http('GET', '/config')).type).toBe(REGISTRY_CONTENT_TYPE);
  });

  it("returns schema text in Avro's key order, as Confluent stores it", async () => {
    const subject = fresh('order');
    const written = '{"fields":[{"type":"long","name":"id"}],"name":"Event","namespace":"dev.kappa","type":"record"}';
    await register(subject, written);
    const latest = (await http('GET', `/subjects/${subject}/versions/latest`)).body as { schema: string };
    expect(latest.schema).toBe(
      '{"type":"record","name":"Event","namespace":"dev.kappa","fields":[{"name":"id","type":"long"}]}',
    );
    expect((await client.getLatestSchemaMetadata(subject)).schema).toBe(latest.schema);
  });

  it('refuses subjects with control characters (42208), and metadata/ruleSet it would not keep', async () => {
    expect(await http('POST', `/subjects/${enc('bad\u0001subject')}/versions`, { schema: v1 })).toMatchObject({
      status: 422,
      body: { error_code: 42208 },
    });
    const subject = fresh('contracts');
    const withMetadata = { schema: v1, metadata: { properties: { owner: 'team' } } };
    const refused = await http('POST', `/subjects/${subject}/versions`, withMetadata);
    expect(refused).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(refused.text).toContain('metadata and ruleSet');
    expect(
      await http('POST', `/subjects/${subject}/versions`, {
        schema: v1,
        ruleSet: { domainRules: [{ name: 'r', kind: 'CONDITION', mode: 'WRITE', type: 'CEL', expr: 'true' }] },
      }),
    ).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(
      await rejection(
        client.register(subject, { schemaType: 'AVRO', schema: v1, metadata: { properties: { owner: 'team' } } }),
      ),
    ).toMatchObject({ status: 422, errorCode: 42201 });
    // Empty ones (what some clients always send) are fine.
    const empty = await http('POST', `/subjects/${subject}/versions`, { schema: v1, metadata: null, ruleSet: {} });
    expect(empty.status, empty.text).toBe(200);
  });

  it('refuses a schema over the log’s 1 MB record limit up front with 42209 naming the limit', async () => {
    const subject = fresh('large');
    // A body under the 1 MiB request limit whose log record is over 1,000,000 bytes.
    const fields = Array.from({ length: 8_200 }, (_, index) => ({
      name: `field_${index}_${'p'.repeat(60)}`,
      type: 'string',
      default: '',
    }));
    const schema = record('Large', fields);
    const body = JSON.stringify({ schema });
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(body.length).toBeLessThan(1024 * 1024);
    const answer = await http('POST', `/subjects/${subject}/versions`, body);
    expect(answer).toMatchObject({ status: 422, body: { error_code: 42209 } });
    expect((answer.body as { message: string }).message).toContain('1000000 bytes');
  });

  it('refuses a body over 1 MiB with 413 before parsing it (issue 22)', async () => {
    const schema = record('Huge', [{ name: 'x', type: 'string', doc: 'd'.repeat(1024 * 1024) }]);
    const answer = await http('POST', `/subjects/${fresh('huge')}/versions`, { schema });
    expect(answer).toMatchObject({ status: 413, body: { error_code: 413 } });
  });
});

/** A schema log whose broker can be cut off: the log calls then fail as kafkajs's do, or hang. */
class CuttableLog implements SchemaLog {
  state: 'up' | 'refusing' | 'hanging' = 'up';
  constructor(private readonly inner: MemorySchemaLog) {}

  private gate(): Promise<void> {
    if (this.state === 'refusing') return Promise.reject(new Error('Connection error: connect ECONNREFUSED'));
    if (this.state === 'hanging') return new Promise(() => undefined);
    return Promise.resolve();
  }

  async append(record: LogRecord): Promise<number> {
    await this.gate();
    return this.inner.append(record);
  }

  async endOffset(): Promise<number> {
    await this.gate();
    return this.inner.endOffset();
  }
}

describe('while the broker is unreachable', () => {
  let app: FastifyInstance;
  let log: CuttableLog;
  let url: string;

  beforeAll(async () => {
    const memory = new MemorySchemaLog();
    log = new CuttableLog(memory);
    const service = new RegistryService(log, { readCatchUpMs: 200 });
    memory.subscribe((offset, record) => service.onRecord(offset, record));
    app = buildRegistryApp({ service });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('answers reads from memory and refuses writes with 50003, saying the broker is needed', async () => {
    const subject = 'offline-value';
    const registered = await http('POST', `/subjects/${subject}/versions`, { schema: v1 }, undefined, url);
    expect(registered.status).toBe(200);
    const offlineClient = new SchemaRegistryClient({ baseURLs: [url], maxRetries: 0 });
    for (const state of ['hanging', 'refusing'] as const) {
      log.state = state;
      expect((await http('GET', '/subjects', undefined, undefined, url)).body).toEqual([subject]);
      expect((await http('GET', `/subjects/${subject}/versions/latest`, undefined, undefined, url)).status).toBe(200);
      expect((await http('GET', '/schemas/ids/1', undefined, undefined, url)).status).toBe(200);
      expect((await http('GET', '/schemas/ids/2', undefined, undefined, url)).body).toMatchObject({
        error_code: 40403,
      });
      expect((await http('GET', '/config', undefined, undefined, url)).body).toEqual({
        compatibilityLevel: 'BACKWARD',
      });
      expect(await offlineClient.getAllSubjects()).toEqual([subject]);
      expect((await offlineClient.getLatestSchemaMetadata(subject)).version).toBe(1);
    }
    log.state = 'refusing';
    const write = await http('POST', `/subjects/${subject}/versions`, { schema: v2 }, undefined, url);
    expect(write).toMatchObject({ status: 500, body: { error_code: 50003 } });
    expect((write.body as { message: string }).message).toMatch(/writes need the Kafka broker/);
    expect(await rejection(offlineClient.register(subject, { schemaType: 'AVRO', schema: v2 }))).toMatchObject({
      errorCode: 50003,
    });
    log.state = 'up';
    expect((await http('POST', `/subjects/${subject}/versions`, { schema: v2 }, undefined, url)).body).toEqual({
      id: 2,
    });
  });
});
