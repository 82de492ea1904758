import { createTestTopic } from './support/context.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from '../src/kafka/kafkajs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../src/kafka/client.js';
import { silentLogger } from '../src/shared/logger.js';
import { brokerPaths, readBrokerState } from '../src/stack/broker-state.js';
import { freePort, isProcessAlive } from '../src/stack/processes.js';
import { kappa } from './support/cli.js';

const BROKER_MAIN = 'kafka.Kafka';

/** Pids of processes whose command line mentions the state directory or its ports (none must outlive `down`). */
function pgrep(pattern: string): string[] {
  const result = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** The recorded broker pid; fails the test rather than hand a bogus pid (kill(-1) signals every process). */
async function brokerPid(stateDir: string): Promise<number> {
  const state = await readBrokerState(stateDir);
  if (state === undefined || state.pid <= 1) throw new Error(`no broker recorded in ${stateDir}`);
  return state.pid;
}

async function roundTrip(brokers: string[], topic: string, values: readonly string[]): Promise<string[]> {
  const kafka = createKafka({ brokers, logger: silentLogger, clientId: 'stack-test' });
  const admin = kafka.admin();
  await admin.connect();
  await createTestTopic(admin, topic, 1);
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
  return readAll(brokers, topic, values.length);
}

async function readAll(brokers: string[], topic: string, expected: number): Promise<string[]> {
  const kafka = createKafka({ brokers, logger: silentLogger, clientId: 'stack-test' });
  const consumer = kafka.consumer({ groupId: `stack-test-${Date.now()}-${Math.random()}` });
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen.length}/${expected} messages from ${topic}`)), 30_000);
    void consumer.run({
      eachMessage: ({ message }) => {
        seen.push(message.value?.toString() ?? '');
        if (seen.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

describe('kappa stack: the local broker lifecycle', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kappa-stack-'));
  let env: Record<string, string>;
  let brokers: string[];
  let registryUrl: string;
  let schemaId: number;

  beforeAll(async () => {
    const port = await freePort();
    const registryPort = await freePort();
    env = {
      KAPPA_STATE_DIR: stateDir,
      KAPPA_STACK_KAFKA_PORT: String(port),
      KAPPA_STACK_CONTROLLER_PORT: String(await freePort()),
      KAPPA_REGISTRY_PORT: String(registryPort),
      KAPPA_LOG_LEVEL: 'warn',
    };
    brokers = [`127.0.0.1:${port}`];
    registryUrl = `http://127.0.0.1:${registryPort}`;
  });

  afterAll(() => {
    kappa(['stack', 'down', '--purge'], env);
  });

  it('starts a broker that kafkajs can create topics on and produce / consume through', async () => {
    const up = kappa(['stack', 'up'], env);
    expect(up.stderr).not.toContain('"level":50');
    expect(up.code, up.stderr).toBe(0);
    const [kafkaLine, registryLine] = up.stdout.trimEnd().split('\n');
    expect(kafkaLine).toMatch(
      new RegExp(`^kafka 3\\.9\\.\\d+: started on ${brokers[0]} \\(pid \\d+, log .*broker\\.log\\)$`),
    );
    expect(registryLine).toMatch(
      new RegExp(`^schema registry: started on ${registryUrl} \\(pid \\d+, log .*registry\\.log\\)$`),
    );
    const state = await readBrokerState(stateDir);
    expect(state && isProcessAlive(state.pid, BROKER_MAIN)).toBe(true);
    expect(await roundTrip(brokers, 'lifecycle', ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
  });

  it('starts a schema registry that answers, registers and refuses incompatible versions with 409', async () => {
    expect(await (await fetch(`${registryUrl}/subjects`)).json()).toEqual([]);
    const register = (schema: object) =>
      fetch(`${registryUrl}/subjects/events-value/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: JSON.stringify(schema) }),
      });
    const v1 = { type: 'record', name: 'Event', fields: [{ name: 'id', type: 'long' }] };
    const created = await register(v1);
    expect(created.status).toBe(200);
    schemaId = ((await created.json()) as { id: number }).id;
    const incompatible = await register({ ...v1, fields: [{ name: 'id', type: 'string' }] });
    expect(incompatible.status).toBe(409);
    expect(await incompatible.json()).toMatchObject({ error_code: 409 });
  });

  it('is idempotent: a second up reports the running broker and registry and starts nothing', async () => {
    const before = await readBrokerState(stateDir);
    const again = kappa(['stack', 'up'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`already running on ${brokers[0]} (pid ${before?.pid}`);
    expect(again.stdout).toContain(`schema registry: already running on ${registryUrl}`);
    expect((await readBrokerState(stateDir))?.pid).toBe(before?.pid);
  });

  it('reports status: running, exit 0', () => {
    const status = kappa(['stack', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`running on ${brokers[0]}`);
    expect(status.stdout).toContain(`schema registry: running on ${registryUrl}`);
    const json = JSON.parse(kappa(['stack', 'status', '--json'], env).stdout) as Record<string, unknown>;
    expect(json['kafka']).toMatchObject({ running: true, reachable: true });
    expect(json['registry']).toMatchObject({ running: true, reachable: true });
  });

  it('stops gracefully and leaves no process behind', async () => {
    const pid = await brokerPid(stateDir);
    const down = kappa(['stack', 'down'], env);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toBe('schema registry: stopped\nkafka: stopped\n');
    expect(isProcessAlive(pid, BROKER_MAIN)).toBe(false);
    expect(pgrep(stateDir)).toEqual([]);
    expect(pgrep(`--registry-port ${env['KAPPA_REGISTRY_PORT']}`)).toEqual([]);
    expect(kappa(['stack', 'status'], env)).toMatchObject({
      code: 3,
      stdout: 'kafka: stopped\nschema registry: stopped\n',
    });
    expect(kappa(['stack', 'down'], env)).toMatchObject({
      code: 0,
      stdout: 'schema registry: was not running\nkafka: was not running\n',
    });
  });

  it('keeps its data across restarts: messages, and every schema id', async () => {
    expect(kappa(['stack', 'up'], env).code).toBe(0);
    expect(await readAll(brokers, 'lifecycle', 3)).toEqual(['a', 'b', 'c']);
    const byId = await fetch(`${registryUrl}/schemas/ids/${schemaId}`);
    expect(byId.status).toBe(200);
    expect(JSON.parse(((await byId.json()) as { schema: string }).schema)).toMatchObject({ name: 'Event' });
  });

  it('recovers after the broker is killed with SIGKILL', async () => {
    const pid = await brokerPid(stateDir);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => isProcessAlive(pid, BROKER_MAIN)).toBe(false);
    expect(kappa(['stack', 'status'], env).code).toBe(3);
    const up = kappa(['stack', 'up'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('started on');
    expect(await readAll(brokers, 'lifecycle', 3)).toEqual(['a', 'b', 'c']);
    // The registry kept running through the broker's death and writes to its log again.
    const v2 = {
      type: 'record',
      name: 'Event',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'tag', type: ['null', 'string'], default: null },
      ],
    };
    const registered = await fetch(`${registryUrl}/subjects/events-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(v2) }),
    });
    expect(registered.status, await registered.clone().text()).toBe(200);
    expect(((await registered.json()) as { id: number }).id).toBeGreaterThan(schemaId);
  });

  it('purges its data on down --purge', async () => {
    const pid = await brokerPid(stateDir);
    const down = kappa(['stack', 'down', '--purge'], env);
    expect(down.stdout).toBe('schema registry: stopped\nkafka: stopped; data purged\n');
    expect(isProcessAlive(pid, BROKER_MAIN)).toBe(false);
    expect(existsSync(brokerPaths(stateDir).root)).toBe(false);
    expect(pgrep(stateDir)).toEqual([]);
    expect(pgrep(`--registry-port ${env['KAPPA_REGISTRY_PORT']}`)).toEqual([]);
  });
});

describe('kappa stack up: failures say what is wrong', () => {
  async function ports(): Promise<Record<string, string>> {
    return {
      KAPPA_STATE_DIR: mkdtempSync(join(tmpdir(), 'kappa-stack-fail-')),
      KAPPA_STACK_KAFKA_PORT: String(await freePort()),
      KAPPA_STACK_CONTROLLER_PORT: String(await freePort()),
      KAPPA_REGISTRY_PORT: String(await freePort()),
    };
  }

  it('refuses a registry port another process holds, after starting the broker', async () => {
    const server: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const env = { ...(await ports()), KAPPA_REGISTRY_PORT: String(port) };
    try {
      const result = kappa(['stack', 'up'], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('kafka 3.9');
      expect(result.stderr).toContain(`port 127.0.0.1:${port} is already in use`);
      expect(result.stderr).toContain('[KAPPA_REGISTRY_PORT_IN_USE]');
    } finally {
      server.close();
      expect(kappa(['stack', 'down', '--purge'], env).code).toBe(0);
    }
  });

  it('refuses a port another process holds', async () => {
    const server: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const result = kappa(['stack', 'up', '--kafka-port', String(port)], await ports());
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port 127.0.0.1:${port} is already in use`);
      expect(result.stderr).toContain('[KAPPA_BROKER_PORT_IN_USE]');
    } finally {
      server.close();
    }
  });

  it('names Java when it is missing', async () => {
    const result = kappa(['stack', 'up'], { ...(await ports()), PATH: '/nonexistent', JAVA_HOME: undefined });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Java 17+ is needed to run the local Kafka broker');
    expect(result.stderr).toContain('[KAPPA_JAVA_MISSING]');
  });

  it('names Maven when the jars are not cached and mvn is missing', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'kappa-bin-'));
    const java = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(realpathSync(java), join(bin, 'java'));
    const emptyCache = mkdtempSync(join(tmpdir(), 'kappa-cache-'));
    const result = kappa(['stack', 'up'], {
      ...(await ports()),
      PATH: bin,
      JAVA_HOME: undefined,
      KAPPA_CACHE_DIR: emptyCache,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Apache Maven is needed once, to fetch the Apache Kafka jars');
    expect(result.stderr).toContain('[KAPPA_MAVEN_MISSING]');
  });

  it('reports a broker that dies during start-up with the end of its log, and cleans up', async () => {
    const env = await ports();
    // A heap too small for the JVM to boot: the process exits at once.
    const result = kappa(['stack', 'up', '--kafka-heap', '1k'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the Kafka broker exited during start-up');
    expect(result.stderr).toMatch(/heap/i);
    expect(await readBrokerState(env['KAPPA_STATE_DIR'] ?? '')).toBeUndefined();
  });

  it('treats a pid file whose process is gone as stopped', async () => {
    const env = await ports();
    const paths = brokerPaths(env['KAPPA_STATE_DIR'] ?? '');
    await mkdir(paths.root, { recursive: true });
    const dead = spawnSync('true').pid ?? 999_999;
    writeFileSync(
      paths.stateFile,
      JSON.stringify({
        pid: dead,
        host: '127.0.0.1',
        port: 1,
        controllerPort: 2,
        version: '3.9.2',
        dataDir: '/x',
        logFile: '/x',
        startedAt: '',
      }),
    );
    expect(kappa(['stack', 'status'], env)).toMatchObject({
      code: 3,
      stdout: 'kafka: stopped\nschema registry: stopped\n',
    });
    expect(kappa(['stack', 'down'], env)).toMatchObject({
      code: 0,
      stdout: 'schema registry: was not running\nkafka: was not running\n',
    });
    expect(existsSync(paths.stateFile)).toBe(false);
  });
});
