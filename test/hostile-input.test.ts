import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyedEvent } from '../src/aggregates/window-engine.js';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { parseAvro } from '../src/registry/avro-schema.js';
import { encodeWithSchemaId } from '../src/registry/wire-format.js';
import { formatEventTime, parseEventTime } from '../src/shared/event-time.js';
import { freePort, isProcessAlive } from '../src/stack/processes.js';
import { cleanEnv, KAPPA_BIN, kappaAsync } from './support/cli.js';
import { testKafka, useTestContext } from './support/context.js';
import { readTopic, type TopicMessage } from './support/read-topic.js';
import { referenceModel } from './support/reference-model.js';
import { startTestRegistry } from './support/registry.js';

/**
 * Issue 22's contract, against one live `kappa up`: a table of hostile inputs — HTTP ingest, the
 * query and admin routes, the registry, the CLI and raw bytes on `events` — each answered with its
 * exact status (or exit code) and error code. After each, the pipeline still answers within a
 * second and a valid event still gets the next id (nothing burned); at the end the logs hold every
 * accepted event exactly once, the dead-letter topic holds exactly the raw garbage, and v1's tables
 * equal the reference model over what it consumed.
 */
const context = useTestContext('hostile');
const ZONE = 'Asia/Seoul';
const SETTINGS = { sizeMs: 2_000, slideMs: 2_000, delayMs: 2_000 };
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

let child: ChildProcess | undefined;
let stateDir = '';
let api = '';
let registry = '';
let env: Record<string, string> = {};
const events = context.topic('events');
const stages = context.topic('events_stages');
/** Every id range a 202 handed out, in order. */
const accepted: { first: number; last: number }[] = [];
/** Raw records produced straight onto `events` that enrichment must dead-letter. */
let rawDeadLetters = 0;

function upLog(): string {
  return readFileSync(join(stateDir, 'up.log'), 'utf8').slice(-4_000);
}

/** The pid of the registry kappa up started (its state file), if it started one. */
function registryPid(): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(stateDir, 'registry', 'registry.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

function now(): string {
  return formatEventTime(Date.now(), ZONE);
}

interface HttpAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function http(
  base: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: options.body === undefined ? options.headers : { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** A raw HTTP/1.1 request, for what fetch refuses to send (another Host header). */
async function rawHttp(port: number, request: string): Promise<number> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}

async function ingest(body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const answer = await http(api, 'POST', '/api/events', { body: JSON.stringify(body), headers });
  if (answer.status === 202)
    accepted.push({ first: Number(answer.body['firstId']), last: Number(answer.body['lastId']) });
  return answer;
}

/**
 * What every case is followed by: the API still answers (a frozen event loop does not), and a
 * valid event still gets an id (the final check shows the ids were not burned).
 */
async function stillServing(): Promise<void> {
  const health = await fetch(`${api}/api/health`, { signal: AbortSignal.timeout(5_000) });
  expect(health.status, upLog()).toBe(200);
  const probe = await ingest({ events: [{ hello: 'probe', time: now() }] });
  expect(probe.status, JSON.stringify(probe.body)).toBe(202);
}

async function rawProduce(value: Buffer | null, partition = 0): Promise<void> {
  const producer = testKafka(context).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic: events, acks: -1, messages: [{ key: 'hostile', value, partition }] });
  } finally {
    await producer.disconnect();
  }
}

async function eventsSchema(): Promise<{ id: number; type: ReturnType<typeof parseAvro> }> {
  const client = new SchemaRegistry({ host: registry });
  const id = await client.getLatestSchemaId(`${events}-value`);
  return { id, type: parseAvro(readFileSync(new URL('../schemas/events/v2.avsc', import.meta.url), 'utf8')) };
}

interface HttpCase {
  readonly name: string;
  readonly run: () => Promise<HttpAnswer>;
  readonly status: number;
  readonly code?: string;
  readonly field?: string;
  /** Registry errors follow Confluent's shape: `error_code`. */
  readonly registryCode?: number;
}

interface CliCase {
  readonly name: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly exit: number;
  readonly says: RegExp;
  readonly neverSays?: string;
}

const bigBody = (bytes: number) => JSON.stringify({ events: [{ hello: 'x'.repeat(bytes) }] });

const HTTP_CASES: readonly HttpCase[] = [
  // HTTP ingest
  {
    name: 'an event in the year 9999',
    run: () => ingest({ events: [{ time: '9999-12-31 23:59:59' }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].time',
  },
  {
    name: 'an event two hours in the future',
    run: () => ingest({ events: [{ time: formatEventTime(Date.now() + 2 * 3_600_000, ZONE) }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].time',
  },
  {
    name: 'a time that is not a time',
    run: () => ingest({ events: [{ time: 'yesterday' }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].time',
  },
  {
    name: 'February 30th',
    run: () => ingest({ events: [{ time: '2026-02-30 10:00:00' }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].time',
  },
  {
    name: 'an event_ts apart from its time',
    run: () => ingest({ events: [{ time: now(), event_ts: 253402300799000 }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].event_ts',
  },
  {
    name: 'an id chosen by the client',
    run: () => ingest({ events: [{ id: 7, hello: 'mine' }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].id',
  },
  {
    name: 'a field the schema does not have',
    run: () => ingest({ events: [{ hello: 'x', admin: true }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].admin',
  },
  {
    name: 'hello as a number',
    run: () => ingest({ events: [{ hello: 42 }] }),
    status: 400,
    code: 'KAPPA_BAD_EVENT',
    field: 'events[0].hello',
  },
  {
    name: 'a __proto__ key',
    run: () => http(api, 'POST', '/api/events', { body: '{"events":[{"__proto__":{"admin":true}}]}' }),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
  },
  {
    name: 'an empty batch',
    run: () => ingest({ events: [] }),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'events',
  },
  {
    name: '1,001 events in one batch',
    run: () => ingest({ events: Array.from({ length: 1_001 }, () => ({ hello: 'x' })) }),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'events',
  },
  {
    name: 'a body that is not JSON',
    run: () => http(api, 'POST', '/api/events', { body: '{"events": [' }),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
  },
  {
    name: 'a body that is not JSON at all (text/plain)',
    run: () => http(api, 'POST', '/api/events', { body: 'hello', headers: { 'content-type': 'text/plain' } }),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'body',
  },
  {
    name: 'a body of a content type nobody parses',
    run: () => http(api, 'POST', '/api/events', { body: '<events/>', headers: { 'content-type': 'application/xml' } }),
    status: 415,
    code: 'KAPPA_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a body over 1 MiB',
    run: () => http(api, 'POST', '/api/events', { body: bigBody(1_100_000) }),
    status: 413,
    code: 'KAPPA_PAYLOAD_TOO_LARGE',
  },
  {
    name: 'one event larger than the broker takes (under the body limit)',
    // Under the 1 MiB body limit, over the broker's 1,048,588 bytes once framed as a record.
    run: () => http(api, 'POST', '/api/events', { body: bigBody(1_048_490) }),
    status: 413,
    code: 'KAPPA_PAYLOAD_TOO_LARGE',
    field: 'events[0]',
  },
  {
    name: 'the same Idempotency-Key with another body',
    run: async () => {
      const key = 'hostile-idempotency-1';
      const body = { events: [{ hello: 'once', time: now() }] };
      const first = await ingest(body, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      // The same request again: the same ids, nothing written twice (the final check reads the log).
      const again = await http(api, 'POST', '/api/events', {
        body: JSON.stringify(body),
        headers: { 'idempotency-key': key },
      });
      expect([again.status, again.body['firstId'], again.body['lastId']]).toEqual([
        202,
        first.body['firstId'],
        first.body['lastId'],
      ]);
      return http(api, 'POST', '/api/events', {
        body: JSON.stringify({ events: [{ hello: 'other' }] }),
        headers: { 'idempotency-key': key },
      });
    },
    status: 422,
    code: 'KAPPA_IDEMPOTENCY_KEY_REUSED',
  },
  {
    name: 'an Idempotency-Key of 201 characters',
    run: () =>
      http(api, 'POST', '/api/events', {
        body: JSON.stringify({ events: [{ hello: 'x' }] }),
        headers: { 'idempotency-key': 'x'.repeat(201) },
      }),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'Idempotency-Key',
  },
  // Query routes
  {
    name: 'a lateness analysis of 86,400,000 windows per event',
    run: () => http(api, 'GET', '/api/lateness?window=1d&slide=1ms'),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
  },
  {
    name: 'a range that is not a time',
    run: () => http(api, 'GET', '/api/windows/users?from=notatime'),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'from',
  },
  {
    name: 'SQL in the version parameter',
    run: () => http(api, 'GET', `/api/windows/users?version=${encodeURIComponent("v1' OR 1=1 --")}`),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'version',
  },
  {
    name: 'a version that does not exist',
    run: () => http(api, 'GET', '/api/windows/users?version=v999'),
    status: 404,
    code: 'KAPPA_VERSION_UNKNOWN',
  },
  {
    name: 'an unknown query parameter',
    run: () => http(api, 'GET', '/api/windows/users?debug=1'),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
  },
  {
    name: 'a top-N of a million',
    run: () => http(api, 'GET', '/api/top/users?limit=1000000'),
    status: 400,
    code: 'KAPPA_BAD_REQUEST',
    field: 'limit',
  },
  {
    name: 'a route that does not exist',
    run: () => http(api, 'GET', '/api/../../etc/passwd'),
    status: 404,
    code: 'KAPPA_NOT_FOUND',
  },
  // Admin routes
  {
    name: 'a cutover without a token',
    run: () => http(api, 'POST', '/api/cutover', { body: '{"to":"v1"}' }),
    status: 401,
    code: 'KAPPA_UNAUTHORIZED',
  },
  {
    name: 'a cutover with a wrong token',
    run: () => http(api, 'POST', '/api/cutover', { body: '{"to":"v1"}', headers: { authorization: 'Bearer wrong' } }),
    status: 401,
    code: 'KAPPA_UNAUTHORIZED',
  },
  {
    name: 'a non-ASCII token of the right length',
    run: () =>
      http(api, 'POST', '/api/rollback', {
        body: '{}',
        headers: { authorization: `Bearer ${'é'.repeat(ADMIN_TOKEN.length / 2)}` },
      }).catch(() =>
        // fetch refuses non-ByteString headers; send the UTF-8 bytes as latin1, as a raw client would.
        http(api, 'POST', '/api/rollback', {
          body: '{}',
          headers: { authorization: `Bearer ${Buffer.from('é'.repeat(ADMIN_TOKEN.length / 2)).toString('latin1')}` },
        }),
      ),
    status: 401,
    code: 'KAPPA_UNAUTHORIZED',
  },
  {
    name: 'a rollback to nowhere with the right token',
    run: () => http(api, 'POST', '/api/rollback', { body: '{}', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    status: 409,
    code: 'KAPPA_ROLLBACK_REFUSED',
  },
  // The registry
  {
    name: 'a registry schema that is not Avro',
    run: () =>
      http(registry, 'POST', `/subjects/${encodeURIComponent('hostile-value')}/versions`, {
        body: JSON.stringify({ schema: '{"type":"nonsense"}' }),
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      }),
    status: 422,
    registryCode: 42201,
  },
  {
    name: 'an incompatible events schema',
    run: () =>
      http(registry, 'POST', `/subjects/${encodeURIComponent(`${events}-value`)}/versions`, {
        body: JSON.stringify({
          schema: JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'string' }] }),
        }),
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      }),
    status: 409,
    registryCode: 409,
  },
  {
    name: 'a registry body over 1 MiB',
    run: () =>
      http(registry, 'POST', '/subjects/hostile-big/versions', {
        body: JSON.stringify({ schema: `"${'x'.repeat(2_000_000)}"` }),
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      }),
    status: 413,
  },
  {
    name: 'a schema id the registry does not know',
    run: () => http(registry, 'GET', '/schemas/ids/987654321'),
    status: 404,
    registryCode: 40403,
  },
];

/** DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host header. */
const HOST_CASES = [
  { name: 'the API with a foreign Host header', port: () => Number(new URL(api).port), path: '/api/health' },
  { name: 'the registry with a foreign Host header', port: () => Number(new URL(registry).port), path: '/subjects' },
] as const;

const CLI_CASES: readonly CliCase[] = [
  {
    name: 'an aggregate of 86,400,000 windows per event',
    args: ['aggregate', '--version', 'v9', '--window', '1d', '--slide', '1ms'],
    exit: 2,
    says: /window.*slide|slide.*window/i,
  },
  {
    name: 'a recover of 86,400,000 windows per event',
    args: ['recover', '--to', 'v9', '--window', '1d', '--slide', '1ms', '--watermark', '60s'],
    exit: 2,
    says: /window.*slide|slide.*window/i,
  },
  {
    name: 'a lateness analysis of 86,400,000 windows per event',
    args: ['lateness', '--window', '1d', '--slide', '1ms'],
    exit: 2,
    says: /window.*slide|slide.*window/i,
  },
  {
    name: 'a generator template in the year 9999',
    args: ['ingest', '--count', '1', '--template', '{"time":"9999-12-31 23:59:59"}'],
    exit: 2,
    says: /template/,
  },
  {
    name: 'a token on the command line',
    args: ['serve', '--api-token', 'S3cretTok3n'],
    exit: 2,
    says: /KAPPA_API_TOKEN/,
    neverSays: 'S3cretTok3n',
  },
  {
    name: 'a MySQL URL with a password that does not parse',
    args: ['status'],
    env: { KAPPA_MYSQL_URL: 'mysql://root:S3cretPassw0rd@127.0.0.1:notaport/kappa' },
    exit: 2,
    says: /KAPPA_MYSQL_URL/,
    neverSays: 'S3cretPassw0rd',
  },
  {
    name: 'a MySQL password that is wrong',
    args: ['status'],
    env: { KAPPA_MYSQL_URL: 'mysql://nobody:S3cretPassw0rd@127.0.0.1:3306/kappa' },
    exit: 1,
    says: /MySQL answered: Access denied.*\[KAPPA_MYSQL_UNAVAILABLE\]/,
    neverSays: 'S3cretPassw0rd',
  },
  {
    name: 'a version name made of SQL',
    args: ['recover', '--to', "v2'; DROP TABLE kappa_versions; --", '--watermark', '60s'],
    exit: 2,
    says: /--to/,
  },
];

describe('hostile input against a live kappa up', () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'kappa-hostile-'));
    const [registryPort, apiPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    registry = `http://127.0.0.1:${registryPort}`;
    const tokenFile = join(stateDir, 'api-token');
    writeFileSync(tokenFile, ADMIN_TOKEN, { mode: 0o600 });
    env = {
      KAPPA_STATE_DIR: stateDir,
      KAPPA_KAFKA_BROKERS: context.brokers.join(','),
      KAPPA_REGISTRY_PORT: String(registryPort),
      KAPPA_REGISTRY_URL: registry,
      KAPPA_REGISTRY_TOPIC: context.topic('_schemas'),
      KAPPA_API_PORT: String(apiPort),
      KAPPA_API_TOKEN_FILE: tokenFile,
      KAPPA_MYSQL_URL: context.mysqlUrl,
      KAPPA_TOPIC_EVENTS: events,
      KAPPA_TOPIC_STAGES: stages,
      KAPPA_TOPIC_PARTITIONS: '2',
      KAPPA_TIME_ZONE: ZONE,
      KAPPA_WINDOW: '2s',
      KAPPA_SLIDE: '2s',
      KAPPA_WATERMARK: '2s',
      KAPPA_LOG_LEVEL: 'info',
    };
    const log = openSync(join(stateDir, 'up.log'), 'a');
    child = spawn(process.execPath, [KAPPA_BIN, 'up', '--rate', '20'], {
      env: cleanEnv(env),
      stdio: ['ignore', log, log],
    });
    // Up when v1 serves rows.
    for (let attempt = 0; attempt < 240; attempt += 1) {
      await sleep(500);
      const answer = await fetch(`${api}/api/windows/users`).catch(() => undefined);
      if (answer?.ok === true && ((await answer.json()) as { rows: unknown[] }).rows.length > 0) return;
      if (child.exitCode !== null) break;
    }
    throw new Error(`kappa up did not serve rows:\n${upLog()}`);
  }, 180_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child?.once('exit', resolve));
    }
    // A kappa up killed by a failed test leaves the registry it started: stop that too.
    const pid = registryPid();
    if (pid !== undefined && isProcessAlive(pid, 'kappa.js\u0000registry')) process.kill(pid, 'SIGKILL');
  });

  for (const hostile of HTTP_CASES) {
    it(`${hostile.name}: ${hostile.status}${hostile.code === undefined ? '' : ` ${hostile.code}`}`, async () => {
      const answer = await hostile.run();
      expect(answer.status, JSON.stringify(answer.body).slice(0, 500)).toBe(hostile.status);
      if (hostile.code !== undefined) expect(answer.body['code']).toBe(hostile.code);
      if (hostile.field !== undefined) expect(answer.body['field']).toBe(hostile.field);
      if (hostile.registryCode !== undefined) expect(answer.body['error_code']).toBe(hostile.registryCode);
      await stillServing();
    });
  }

  for (const hostile of HOST_CASES) {
    it(`${hostile.name}: refused`, async () => {
      const status = await rawHttp(
        hostile.port(),
        `GET ${hostile.path} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
      );
      expect([403, 421]).toContain(status);
      await stillServing();
    });
  }

  for (const hostile of CLI_CASES) {
    it(`kappa ${hostile.args[0] ?? ''}: ${hostile.name}: exit ${hostile.exit}`, async () => {
      const result = await kappaAsync(hostile.args, { ...env, ...hostile.env }, 60_000, 'SIGKILL');
      const output = `${result.stdout}${result.stderr}`;
      expect(result.code, output).toBe(hostile.exit);
      expect(output).toMatch(hostile.says);
      if (hostile.neverSays !== undefined) expect(output).not.toContain(hostile.neverSays);
      await stillServing();
    });
  }

  it('an analysis of 100 windows per event runs beside the API', async () => {
    const analysis = await http(api, 'GET', '/api/lateness?window=10s&slide=100ms');
    expect(analysis.status, JSON.stringify(analysis.body).slice(0, 500)).toBe(200);
    await stillServing();
    // A second analysis while one may still run: answered (queued, computing or done), never a 5xx.
    expect((await http(api, 'GET', '/api/lateness?window=10s&slide=200ms')).status).toBeLessThan(500);
    await stillServing();
  });

  it('raw bytes that are not the wire format go to the dead-letter topic', async () => {
    await rawProduce(Buffer.from('not avro at all'));
    await rawProduce(Buffer.from([0, 0, 0, 0]));
    await rawProduce(null);
    rawDeadLetters += 3;
    await stillServing();
  });

  it('an Avro event in the year 9999 produced straight onto events is dead-lettered as future-time', async () => {
    const schema = await eventsSchema();
    const time = parseEventTime('9999-12-31 23:59:59', ZONE) ?? 0;
    await rawProduce(
      encodeWithSchemaId(schema.id, schema.type, {
        id: 999_999_999,
        hello: 'poison',
        time: '9999-12-31 23:59:59',
        event_ts: time,
      }),
      1,
    );
    rawDeadLetters += 1;
    await stillServing();
  });

  it('a truncated Avro body is dead-lettered', async () => {
    const schema = await eventsSchema();
    const whole = encodeWithSchemaId(schema.id, schema.type, {
      id: 999_999_998,
      hello: 'cut',
      time: now(),
      event_ts: Date.now(),
    });
    await rawProduce(whole.subarray(0, 8));
    rawDeadLetters += 1;
    await stillServing();
  });

  it('after all of it: each accepted event once, nothing burned, the garbage dead-lettered, v1 equals the model', async () => {
    // Enrichment dead-letters the raw garbage as it reaches it; under load it may not have reached
    // the last of it yet, and a Ctrl-C leaves that tail for the next start. Wait until it has.
    const dlq = `${events}.dlq`;
    const deadline = Date.now() + 90_000;
    while ((await readTopic(testKafka(context), dlq).catch(() => [])).length < rawDeadLetters) {
      if (Date.now() > deadline) break; // the assertion below names what is missing
      await sleep(500);
    }
    // Ctrl-C within a second's reach, then a clean stop: the stages commit what they have.
    child?.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child?.once('exit', resolve));
    expect(code, upLog()).toBe(0);
    const kafka = testKafka(context);

    const raw = await readTopic(kafka, events);
    const ids = new Map<number, TopicMessage>();
    // kappa up's registry stopped with it: a registry of the test's own reads the same schema log.
    const checkRegistry = await startTestRegistry(context, context.topic('_schemas'));
    const registryClient = new SchemaRegistry({ host: checkRegistry.url });
    try {
      let undecodable = 0;
      const apiIds = new Set<number>();
      const generatorIds: number[] = [];
      for (const message of raw) {
        const decoded: unknown = await registryClient.decode(message.value).catch(() => undefined);
        if (decoded === undefined) {
          undecodable += 1;
          continue;
        }
        const id = Number((decoded as { id: number | bigint }).id);
        if (id >= 999_999_000) continue; // the raw poison of the cases above
        expect(ids.has(id), `id ${id} twice in ${events}`).toBe(false);
        ids.set(id, message);
        if (message.headers?.['kappa.writer']?.toString() === 'api') apiIds.add(id);
        else generatorIds.push(id);
      }
      // Of the raw records, all but the well-formed year-9999 event are not decodable at all.
      expect(undecodable).toBe(rawDeadLetters - 1);
      // Every id a 202 handed out is in the log once; the API wrote nothing else.
      const handedOut = new Set(
        accepted.flatMap(({ first, last }) => Array.from({ length: last - first + 1 }, (_, i) => first + i)),
      );
      expect([...apiIds].sort((a, b) => a - b)).toEqual([...handedOut].sort((a, b) => a - b));
      // Nothing burned: the only ids missing below the largest are the generator's unwritten block tail.
      const maxGenerator = Math.max(...generatorIds);
      const largest = Math.max(...ids.keys());
      for (let id = 0; id <= largest; id += 1)
        if (!ids.has(id)) expect(id, `id ${id} burned`).toBeGreaterThan(maxGenerator);

      const deadLetters = await readTopic(kafka, `${events}.dlq`);
      expect(
        deadLetters.map((message) => message.headers?.['kappa.dlq.reason']?.toString() ?? '?').sort(),
      ).toHaveLength(rawDeadLetters);
      expect(deadLetters.map((message) => message.headers?.['kappa.dlq.reason']?.toString())).toContain('future-time');

      // The stages log holds each enriched event once, and v1's tables equal the reference model over
      // what v1 consumed (its progress), decided per partition in log order.
      const enriched = await readTopic(kafka, stages);
      const connection = await createConnection({ uri: context.mysqlUrl, timezone: 'Z' });
      try {
        const [progress] = await connection.query(
          "SELECT partition_id, next_offset FROM kappa_progress WHERE version = 'v1' AND topic = ?",
          [stages],
        );
        const next = new Map(
          (progress as { partition_id: number; next_offset: string | number }[]).map((row) => [
            row.partition_id,
            BigInt(row.next_offset),
          ]),
        );
        const partitions = new Map<number, { offset: bigint; event: KeyedEvent }[]>();
        const seen = new Set<number>();
        for (const message of enriched) {
          const record = (await registryClient.decode(message.value)) as {
            id: number | bigint;
            time: string;
            user_name: string;
            dept_name: string;
            age: number;
          };
          const id = Number(record.id);
          expect(seen.has(id), `id ${id} twice in ${stages}`).toBe(false);
          seen.add(id);
          if (message.offset >= (next.get(message.partition) ?? 0n)) continue;
          const list = partitions.get(message.partition) ?? [];
          list.push({
            offset: message.offset,
            event: {
              time: parseEventTime(record.time, ZONE) ?? Number.NaN,
              keys: { user: record.user_name, dept: record.dept_name, age: String(record.age) },
            },
          });
          partitions.set(message.partition, list);
        }
        // Every enriched id is an event of the log, and per events partition the enriched ones are a
        // prefix in log order: only what arrived as kappa up was stopping may wait for the next start.
        for (const id of seen) expect(ids.has(id), `id ${id} in ${stages} but not in ${events}`).toBe(true);
        const byPartition = new Map<number, { offset: bigint; id: number }[]>();
        for (const [id, message] of ids)
          byPartition.set(message.partition, [
            ...(byPartition.get(message.partition) ?? []),
            { offset: message.offset, id },
          ]);
        for (const [partition, entries] of byPartition) {
          const enriched = entries.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((entry) => seen.has(entry.id));
          const firstMissing = enriched.indexOf(false);
          if (firstMissing >= 0)
            expect(
              enriched.slice(firstMissing),
              `${events}[${partition}]: an event skipped, a later one enriched`,
            ).not.toContain(true);
          expect(
            enriched.filter((done) => !done).length,
            `${events}[${partition}]: left for the next start`,
          ).toBeLessThan(50);
        }
        const reference = referenceModel(
          [...partitions.values()].map((entries) =>
            entries.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((entry) => entry.event),
          ),
          SETTINGS,
        );
        const [rows] = await connection.query('SELECT window_start, user_name AS k, count FROM events_users_v1');
        const tables = new Map<string, number>();
        for (const row of rows as { window_start: Date; k: string; count: string | number }[])
          tables.set(`${row.window_start.getTime()}|user|${row.k}`, Number(row.count));
        const expected = new Map([...reference.rows].filter(([key]) => key.includes('|user|')));
        expect(tables).toEqual(expected);
        const [late] = await connection.query(
          "SELECT COALESCE(SUM(late_events), 0) AS late FROM kappa_progress WHERE version = 'v1'",
        );
        expect(Number((late as { late: string | number }[])[0]?.late)).toBe(reference.late);
      } finally {
        await connection.end();
      }
    } finally {
      await checkRegistry.close();
    }
    // Nothing left running.
    const pid = registryPid();
    if (pid !== undefined) expect(isProcessAlive(pid, 'kappa.js\u0000registry')).toBe(false);
  }, 180_000);
});
