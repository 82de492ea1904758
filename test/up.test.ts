import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, freePort } from '../src/stack/processes.js';
import { cleanEnv, KAPPA_BIN } from './support/cli.js';
import { useTestContext } from './support/context.js';

const context = useTestContext('up');

describe('kappa up on a machine with nothing running', () => {
  it(
    'starts the local stack and the whole pipeline, shows data on the dashboard API, and Ctrl-C leaves nothing behind',
    { timeout: 300_000 },
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'kappa-up-'));
      const [kafkaPort, controllerPort, registryPort, apiPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const env = {
        KAPPA_STATE_DIR: stateDir,
        KAPPA_STACK_KAFKA_PORT: String(kafkaPort),
        KAPPA_STACK_CONTROLLER_PORT: String(controllerPort),
        KAPPA_KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        KAPPA_REGISTRY_PORT: String(registryPort),
        KAPPA_REGISTRY_URL: `http://127.0.0.1:${registryPort}`,
        KAPPA_API_PORT: String(apiPort),
        KAPPA_MYSQL_URL: context.mysqlUrl,
        // Short windows so rows appear within seconds.
        KAPPA_WINDOW: '2s',
        KAPPA_SLIDE: '2s',
        KAPPA_WATERMARK: '2s',
        KAPPA_LOG_LEVEL: 'info',
      };
      const log = join(stateDir, 'up.log');
      const child = spawn(process.execPath, [KAPPA_BIN, 'up', '--rate', '200'], {
        env: cleanEnv(env),
        stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        const api = `http://127.0.0.1:${apiPort}`;
        // v1 serves and has rows within a minute (the jars are cached by the test run's broker).
        let rows = 0;
        for (let attempt = 0; attempt < 240 && rows === 0; attempt += 1) {
          await sleep(500);
          const response = await fetch(`${api}/api/windows/users`).catch(() => undefined);
          if (response?.ok === true) rows = ((await response.json()) as { rows: unknown[] }).rows.length;
          if (child.exitCode !== null) break;
        }
        expect(rows, readFileSync(log, 'utf8').slice(-3_000)).toBeGreaterThan(0);
        expect(readFileSync(log, 'utf8')).toContain(`kappa is up: dashboard ${api}/`);
        const versions = (await (await fetch(`${api}/api/versions`)).json()) as {
          versions: { version: string; serving: boolean }[];
        };
        expect(versions.versions).toEqual([expect.objectContaining({ version: 'v1', serving: true })]);
        expect((await fetch(`${api}/`)).status).toBe(200);
      } finally {
        const brokerPid = (JSON.parse(readFileSync(join(stateDir, 'kafka', 'broker.json'), 'utf8')) as { pid: number })
          .pid;
        const registryState = join(stateDir, 'registry', 'registry.json');
        const registryPid = existsSync(registryState)
          ? (JSON.parse(readFileSync(registryState, 'utf8')) as { pid: number }).pid
          : undefined;
        child.kill('SIGINT');
        expect(await exited).toBe(0);
        // Ctrl-C stopped the broker and the registry it started: no process left behind.
        // (Checked by command line: an exited child whose reaper is slow is not a process left behind.)
        expect(isProcessAlive(brokerPid, 'kafka.Kafka')).toBe(false);
        if (registryPid !== undefined) expect(isProcessAlive(registryPid, 'kappa.js\u0000registry')).toBe(false);
      }
    },
  );
});
