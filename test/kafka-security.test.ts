import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBroker, stopBroker } from '../src/stack/broker.js';
import { freePort } from '../src/stack/processes.js';
import { cleanEnv, KAPPA_BIN, kappaAsync } from './support/cli.js';
import { useTestContext } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

/**
 * Every Kafka client of kappa through a SASL_SSL listener (SCRAM-SHA-256 over TLS, the broker's
 * certificate signed by a CA made here): the registry, ingest, enrichment and the aggregator run
 * as the real CLI with the settings from the environment, end to end into MySQL.
 */
const context = useTestContext('kafka-security');
const USER = 'kappa-app';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-secret`;
const dir = mkdtempSync(join(tmpdir(), 'kappa-sasl-'));
const children: ChildProcess[] = [];
let saslBroker = '';
let registryUrl = '';

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a broker certificate for 127.0.0.1 signed by it, and the PKCS#12 keystore Kafka reads. */
function makeCertificates(): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=kappa-test-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'broker.key',
    '-out',
    'broker.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'broker.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'broker.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  openssl(
    'pkcs12',
    '-export',
    '-in',
    'broker.pem',
    '-inkey',
    'broker.key',
    '-out',
    'broker.p12',
    '-passout',
    'pass:keystore-pw',
    '-name',
    'broker',
  );
}

function secureEnv(password = PASSWORD): Record<string, string> {
  writeFileSync(join(dir, 'password'), `${password}\n`, { mode: 0o600 });
  return {
    KAPPA_KAFKA_BROKERS: saslBroker,
    KAPPA_KAFKA_SSL_CA: join(dir, 'ca.pem'),
    KAPPA_KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAPPA_KAFKA_SASL_USERNAME: USER,
    KAPPA_KAFKA_SASL_PASSWORD_FILE: join(dir, 'password'),
    KAPPA_LOG_LEVEL: 'debug',
  };
}

function background(args: readonly string[], env: Record<string, string>, label: string): ChildProcess {
  const log = openSync(join(dir, `${label}.log`), 'a');
  const child = spawn(process.execPath, [KAPPA_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', log, log] });
  children.push(child);
  return child;
}

beforeAll(async () => {
  makeCertificates();
  const [port, controllerPort, saslPort] = await Promise.all([freePort(), freePort(), freePort()]);
  saslBroker = `127.0.0.1:${saslPort}`;
  await startBroker({
    stateDir: join(dir, 'state'),
    cacheDir: inject('kafkaRestart').cacheDir,
    version: inject('kafkaRestart').version,
    port,
    controllerPort,
    heap: '384m',
    startTimeoutMs: 120_000,
    // Brokers talk PLAINTEXT among themselves (and to the readiness check); clients use SASL_SSL.
    overrides: {
      listeners: `PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': join(dir, 'broker.p12'),
      'ssl.keystore.password': 'keystore-pw',
    },
    formatArgs: ['--add-scram', `SCRAM-SHA-256=[name=${USER},password=${PASSWORD}]`],
  });
  const registryPort = await freePort();
  registryUrl = `http://127.0.0.1:${registryPort}`;
  background(
    ['registry', '--registry-port', String(registryPort), '--registry-topic', context.topic('_schemas')],
    secureEnv(),
    'registry',
  );
  for (let attempt = 0; ; attempt += 1) {
    const up = await fetch(`${registryUrl}/subjects`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (attempt > 240)
      throw new Error(`the registry did not answer: ${readFileSync(join(dir, 'registry.log'), 'utf8')}`);
    await sleep(500);
  }
}, 240_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await stopBroker({ stateDir: join(dir, 'state'), timeoutMs: 30_000, purge: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('kappa through a SASL_SSL listener (SCRAM-SHA-256, TLS with a private CA)', () => {
  it('runs ingest → enrichment → aggregator end to end', { timeout: 240_000 }, async () => {
    const env = {
      ...secureEnv(),
      KAPPA_REGISTRY_URL: registryUrl,
      KAPPA_MYSQL_URL: context.mysqlUrl,
      KAPPA_TOPIC_EVENTS: context.topic('events'),
      KAPPA_TOPIC_STAGES: context.topic('stages'),
      KAPPA_STATE_DIR: join(dir, 'kappa-state'),
    };
    const count = 300;
    const ingest = await kappaAsync(
      ['ingest', '--count', String(count), '--rate', '0', '--template', '{"hello":"tls","time":"2026-12-05 10:00:03"}'],
      env,
    );
    expect(ingest.code, ingest.stderr).toBe(0);
    background(['enrich'], env, 'enrich');
    background(['aggregate', '--version', 'v1', '--idle-close', '1s'], env, 'aggregate');
    let total = 0;
    for (let attempt = 0; attempt < 400 && total < count; attempt += 1) {
      await sleep(500);
      const rows = await sqlRows<{ total: string | null }>(
        context.mysqlUrl,
        'SELECT SUM(count) AS total FROM events_users_v1',
      ).catch(() => [{ total: null }]);
      total = Number(rows[0]?.total ?? 0);
    }
    expect(total).toBe(count);
  });

  it(
    'ends at once with KAPPA_KAFKA_AUTH_FAILED on a wrong password, never printing it',
    { timeout: 120_000 },
    async () => {
      const wrong = `wrong-${PASSWORD}`;
      const brokerLog = join(dir, 'state', 'kafka', 'broker.log');
      const refusals = () => (readFileSync(brokerLog, 'utf8').match(/Failed authentication with/g) ?? []).length;
      const before = refusals();
      const result = await kappaAsync(['ingest', '--count', '1'], {
        ...secureEnv(),
        KAPPA_KAFKA_SASL_PASSWORD_FILE: '',
        KAPPA_KAFKA_SASL_PASSWORD: wrong,
        KAPPA_REGISTRY_URL: registryUrl,
        KAPPA_MYSQL_URL: context.mysqlUrl,
        KAPPA_TOPIC_EVENTS: context.topic('events-denied'),
        KAPPA_STATE_DIR: join(dir, 'denied-state'),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('[KAPPA_KAFKA_AUTH_FAILED]');
      expect(`${result.stdout}${result.stderr}`).not.toContain(wrong);
      // No retry storm: the broker saw one refused login (kafkajs does not retry them), not a schedule of them.
      expect(refusals() - before).toBeGreaterThanOrEqual(1);
      expect(refusals() - before).toBeLessThanOrEqual(2);
    },
  );

  it('never writes the password into any log', () => {
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.log'))) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toContain(PASSWORD);
    }
  });
});
